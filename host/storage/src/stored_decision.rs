//! How a decision is stored, in a few hundred bytes instead of ~6 KB (issue 23).
//!
//! A decision's row holds the columns queries filter on, and two encoded ones:
//!
//! - `packed`: the decision as JSON without what the row's own columns already hold (its id,
//!   request id and body hash) or `chain` holds, compressed with zstd against a dictionary
//!   trained on decisions. JSON, so a field added later reads back with its default; a
//!   dictionary, because one decision is too small for plain zstd to learn from (a 2.8 kB
//!   body: ~990 bytes plain, a few hundred with the dictionary). Every frame names its
//!   dictionary, and every dictionary a release ever wrote with stays in [`DICTIONARIES`], so
//!   a new dictionary changes what is written, never what can be read.
//! - `chain`: the entity chain ([`arbiter_engine::entity_chain`]) that an entity's history
//!   walks in SQL, seven 16-byte decision ids (`chain.rs`).
//!
//! Decisions stored before migration 0029 keep their whole JSON in `body` (and no `packed`);
//! a read takes `packed` when there is one. Erasure rewrites `packed` by unpacking, scrubbing
//! the JSON and packing again (`sql/erasure.rs`).

use std::cell::RefCell;
use std::sync::LazyLock;

use arbiter_engine::Decision;
use arbiter_engine::action::Action;
use arbiter_engine::backtest::replay::{ReplayInput, UndecodedInput};
use arbiter_engine::context::EnrichedContext;
use arbiter_engine::decision::{DecisionId, LayerResults, Reason, RolloutAssignment, ShadowResult};
use arbiter_engine::stages::ModelOutcome;
use arbiter_engine::store::{DecisionEntities, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::columns::from_json;

mod chain;
pub(crate) use chain::walk_previous_sql;

/// Every dictionary a release has packed decisions with, by the id its frames carry; the
/// last is the one new decisions are packed with. Trained with `zstd --train` on the bodies
/// `examples/decision_samples.rs` writes (see that example for the command); never removed.
const DICTIONARIES: &[(u32, &[u8])] = &[(1, include_bytes!("stored_decision/decisions-1.zdict"))];

/// zstd's default level: measured within a few bytes of level 19 on decisions, at a fraction
/// of the CPU.
const LEVEL: i32 = 3;

/// A packed body larger than this is refused as corrupt rather than allocated.
const MAX_UNPACKED: u64 = 16 << 20;

static ENCODER: LazyLock<EncoderDictionary<'static>> = LazyLock::new(|| {
    let (_, current) = DICTIONARIES[DICTIONARIES.len() - 1];
    EncoderDictionary::copy(current, LEVEL)
});

static DECODERS: LazyLock<Vec<(u32, DecoderDictionary<'static>)>> = LazyLock::new(|| {
    DICTIONARIES
        .iter()
        .map(|(id, bytes)| (*id, DecoderDictionary::copy(bytes)))
        .collect()
});

thread_local! {
    /// A compression context per thread, made on first use (contexts are not `Sync`).
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    /// A decompression context per thread and dictionary, made on first use.
    static DECOMPRESSORS: RefCell<Vec<(u32, Decompressor<'static>)>> =
        const { RefCell::new(Vec::new()) };
}

/// A decision's encoded columns.
pub(crate) struct Packed {
    pub packed: Vec<u8>,
    pub chain: Option<Vec<u8>>,
}

/// What `packed` holds: the decision without its row's keys and chain.
#[derive(Serialize)]
struct BodyRef<'a> {
    action: Action,
    score: f64,
    reasons: &'a [Reason],
    policy_set_version: i64,
    model_version: Option<i64>,
    created_at: DateTime<Utc>,
    context: &'a EnrichedContext,
    layers: &'a LayerResults,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollout: Option<RolloutAssignment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow: Option<&'a ShadowResult>,
}

#[derive(Deserialize)]
struct Body {
    action: Action,
    score: f64,
    reasons: Vec<Reason>,
    policy_set_version: i64,
    model_version: Option<i64>,
    created_at: DateTime<Utc>,
    context: EnrichedContext,
    layers: LayerResults,
    #[serde(default)]
    rollout: Option<RolloutAssignment>,
    #[serde(default)]
    shadow: Option<ShadowResult>,
}

/// The JSON `packed` compresses: what a dictionary is trained on.
pub fn body_json(d: &Decision) -> Result<Vec<u8>, StoreError> {
    // Every field named, so a field added to `Decision` fails to compile here until it is
    // given a place.
    let Decision {
        decision_id: _,
        request_id: _,
        body_hash: _,
        chain: _,
        action,
        score,
        reasons,
        policy_set_version,
        model_version,
        created_at,
        context,
        layers,
        rollout,
        shadow,
    } = d;
    serde_json::to_vec(&BodyRef {
        action: *action,
        score: *score,
        reasons,
        policy_set_version: *policy_set_version,
        model_version: *model_version,
        created_at: *created_at,
        context,
        layers,
        rollout: *rollout,
        shadow: shadow.as_ref(),
    })
    .map_err(|e| StoreError::Backend(format!("decision body: {e}")))
}

/// The decision's `packed` and `chain` columns.
pub(crate) fn pack(d: &Decision) -> Result<Packed, StoreError> {
    Ok(Packed {
        packed: pack_json(&body_json(d)?)?,
        chain: chain::bytes(&d.chain),
    })
}

/// `packed` for a decision's JSON ([`body_json`], or that JSON as erasure rewrote it).
pub(crate) fn pack_json(json: &[u8]) -> Result<Vec<u8>, StoreError> {
    let failed = |e: std::io::Error| StoreError::Backend(format!("packing a decision: {e}"));
    COMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Some(Compressor::with_prepared_dictionary(&ENCODER).map_err(failed)?);
        }
        let compressor = slot.as_mut().expect("made above");
        compressor.compress(json).map_err(failed)
    })
}

/// The JSON a `packed` value holds.
pub fn unpack(packed: &[u8]) -> Result<Vec<u8>, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt(format!("packed decision: {why}"));
    let id = zstd::zstd_safe::get_dict_id_from_frame(packed).map_or(0, |id| id.get());
    let (_, dictionary) = DECODERS
        .iter()
        .find(|(known, _)| *known == id)
        .ok_or_else(|| corrupt(format!("dictionary {id} is not one this release knows")))?;
    let size = match zstd::zstd_safe::get_frame_content_size(packed) {
        Ok(Some(size)) if size <= MAX_UNPACKED => size,
        Ok(Some(size)) => return Err(corrupt(format!("{size} bytes unpacked"))),
        Ok(None) | Err(_) => return Err(corrupt("no frame size".into())),
    };
    DECOMPRESSORS.with_borrow_mut(|contexts| {
        let at = match contexts.iter().position(|(known, _)| *known == id) {
            Some(at) => at,
            None => {
                let context = Decompressor::with_prepared_dictionary(dictionary)
                    .map_err(|e| corrupt(e.to_string()))?;
                contexts.push((id, context));
                contexts.len() - 1
            }
        };
        contexts[at]
            .1
            .decompress(packed, size as usize)
            .map_err(|e| corrupt(e.to_string()))
    })
}

/// The JSON of a stored decision, in either form: `packed`'s when there is one, else the
/// whole `body` of a decision stored before migration 0029. Both hold `context` and
/// `layers`, which is what a partial read (entities, erasure) picks out.
pub(crate) fn json_of(
    body: Option<String>,
    packed: Option<Vec<u8>>,
) -> Result<Vec<u8>, StoreError> {
    match packed {
        Some(packed) => unpack(&packed),
        None => Ok(body.unwrap_or_default().into_bytes()),
    }
}

/// The part of a stored decision a replay reads.
#[derive(Deserialize)]
struct ReplayBody {
    context: EnrichedContext,
    layers: ReplayLayers,
}

#[derive(Deserialize)]
struct ReplayLayers {
    lists: ListVerdict,
    model: Option<ModelOutcome>,
}

#[derive(Deserialize)]
struct ListVerdict {
    verdict: Option<Action>,
}

/// The part of a stored decision that names its entities, whole.
#[derive(Deserialize)]
struct ContextBody {
    context: EnrichedContext,
}

/// The context of a stored decision's JSON ([`json_of`]): what an entity's history and an
/// erasure read of it.
pub(crate) fn context_of(json: &[u8]) -> Result<EnrichedContext, serde_json::Error> {
    serde_json::from_slice::<ContextBody>(json).map(|b| b.context)
}

/// A replay's input from a stored decision's JSON ([`json_of`]).
pub(crate) fn replay_input_of(json: &[u8]) -> Result<ReplayInput, serde_json::Error> {
    let body: ReplayBody = serde_json::from_slice(json)?;
    Ok(ReplayInput {
        context: body.context,
        list_verdict: body.layers.lists.verdict,
        model: body.layers.model,
    })
}

/// A replay's input, unpacked and decoded when a backtest worker calls it.
pub(crate) fn undecoded_input(body: Option<String>, packed: Option<Vec<u8>>) -> UndecodedInput {
    Box::new(move || {
        let json = json_of(body, packed).map_err(|e| e.to_string())?;
        replay_input_of(&json).map_err(|e| e.to_string())
    })
}

/// The part of a stored decision the link graph reads: serde skips the rest without
/// building it.
#[derive(Deserialize)]
struct EntitiesBody {
    context: ContextEntities,
}

#[derive(Deserialize)]
struct ContextEntities {
    user_id: String,
    device_id: Option<String>,
    card_fingerprint: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    shipping_address_hash: Option<String>,
    ip: Option<String>,
}

/// The link graph's entities of a stored decision's JSON ([`json_of`]).
pub(crate) fn entities_of(
    decision_id: String,
    created_at: DateTime<Utc>,
    json: &[u8],
) -> Result<DecisionEntities, StoreError> {
    let EntitiesBody { context: c } = serde_json::from_slice(json)
        .map_err(|e| StoreError::Corrupt(format!("entities of decision `{decision_id}`: {e}")))?;
    Ok(DecisionEntities {
        created_at,
        decision_id,
        user_id: c.user_id,
        device_id: c.device_id,
        card_fingerprint: c.card_fingerprint,
        email: c.email,
        phone: c.phone,
        shipping_address_hash: c.shipping_address_hash,
        ip: c.ip,
    })
}

/// One stored decision's columns, as every read of a whole decision selects them
/// ([`decision_columns!`]).
#[derive(sqlx::FromRow)]
pub(crate) struct StoredDecision {
    pub decision_id: String,
    pub request_id: String,
    pub body_hash: String,
    /// The whole JSON of a decision stored before migration 0029; empty (SQLite) or null
    /// (PostgreSQL) after.
    pub body: Option<String>,
    pub packed: Option<Vec<u8>>,
    pub chain: Option<Vec<u8>>,
}

/// The columns of [`StoredDecision`] from `decisions d`, as a literal for `concat!`;
/// `$as_text` reads the JSON body as text (`"::text"` on PostgreSQL, where it is JSONB).
macro_rules! decision_columns {
    ($as_text:literal) => {
        concat!(
            "d.decision_id, d.request_id, d.body_hash, d.body",
            $as_text,
            " AS body, d.packed, d.chain"
        )
    };
}
pub(crate) use decision_columns;

impl StoredDecision {
    pub fn into_decision(self) -> Result<Decision, StoreError> {
        let Some(packed) = self.packed else {
            return from_json(&self.body.unwrap_or_default(), "decision body");
        };
        let json = unpack(&packed)?;
        let body: Body = serde_json::from_slice(&json).map_err(|e| {
            StoreError::Corrupt(format!("packed decision `{}`: {e}", self.decision_id))
        })?;
        Ok(Decision {
            chain: chain::of(self.chain.as_deref(), &self.decision_id)?,
            decision_id: DecisionId(self.decision_id),
            request_id: self.request_id,
            body_hash: self.body_hash,
            action: body.action,
            score: body.score,
            reasons: body.reasons,
            policy_set_version: body.policy_set_version,
            model_version: body.model_version,
            created_at: body.created_at,
            context: body.context,
            layers: body.layers,
            rollout: body.rollout,
            shadow: body.shadow,
        })
    }
}

#[cfg(test)]
mod tests;
