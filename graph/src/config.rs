//! Tunables of the graph: the ageing window, the entity cap, the hop bound and the score
//! thresholds. Owns the defaults and why they are what they are; applies none of them.

use std::time::Duration;

/// How the graph ages, how big it may grow and how it scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Links not seen for this long are removed by the maintenance pass, and entities left
    /// with no link (and no fraud mark) with them. Default 90 days.
    pub window: Duration,
    /// Soft bound on live entities. The maintenance pass evicts least-recently-seen
    /// unmarked entities down to 90 % of it. Default 2 million.
    pub entity_cap: usize,
    /// Soft bound on the graph's estimated memory in bytes ([`crate::LinkGraph::live_bytes`]):
    /// entities and their values plus links. Over it, the maintenance pass evicts as over
    /// `entity_cap`, down to the share of entities that fits 90 % of it. Default 1 GiB.
    pub byte_cap: usize,
    /// Bound of the search for fraud-marked entities (hops). Default 3, at most 6.
    pub max_hops: u8,
    /// Most nodes one propagation of fraud proximity (a mark, a new link next to fraud, an
    /// unmark) visits, so a mark on a hub cannot hold the write lock for long. Whatever it
    /// leaves out is completed by the next maintenance pass. Default 4096.
    pub hop_visit_budget: usize,
    /// Window of the card-testing burst counter (new cards per device / user). Default 1 h.
    pub burst_window: Duration,
    /// Store IPs by /24 (IPv4) or /64 (IPv6) network instead of by address. Default off.
    pub ip_prefix: bool,
    /// Capacity reserved up front (entities, links) so a serving graph does not pause to
    /// grow its vectors and tables through a doubling. Default 0 (grow on demand).
    pub reserve: (usize, usize),
    pub thresholds: Thresholds,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            window: Duration::from_secs(90 * 24 * 3600),
            entity_cap: 2_000_000,
            byte_cap: 1 << 30,
            max_hops: 3,
            hop_visit_budget: 4096,
            burst_window: Duration::from_secs(3600),
            ip_prefix: false,
            reserve: (0, 0),
            thresholds: Thresholds::default(),
        }
    }
}

impl Config {
    pub(crate) fn window_secs(&self) -> u32 {
        secs(self.window)
    }

    pub(crate) fn burst_secs(&self) -> u32 {
        secs(self.burst_window).max(1)
    }

    pub(crate) fn hops_bound(&self) -> u8 {
        self.max_hops.min(6)
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// Where ordinary life ends. Each "sharing" threshold is the most a legitimate household or
/// small business shows; the score rises only above it. See the crate README for the
/// reasoning and the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Distinct users one device may carry before it counts as shared (a family: 2–4).
    pub device_users: u32,
    /// Distinct users one card may carry (a couple or parent and child share one).
    pub card_users: u32,
    /// Distinct users one phone number may carry.
    pub phone_users: u32,
    /// Distinct users one shipping address may carry (households, shared flats).
    pub address_users: u32,
    /// New cards on one device or user within the burst window before it looks like
    /// card testing.
    pub card_burst: u32,
    /// Distinct cards on one device or user (whole window) before it looks like card
    /// testing spread out over time.
    pub cards_total: u32,
    /// Fewest distinct users in a fraud-marked group for it to count as a ring.
    pub ring_min_users: u32,
    /// Most distinct users in a group for the ring rule to apply: larger groups are chains of
    /// ordinary sharing where membership alone says nothing; proximity (hops) still applies.
    pub ring_max_users: u32,
    /// Fewest users on one of the decision's own devices / cards / phones / addresses for it
    /// to take part in a ring (a ring shares identifiers; a relative of a relative does not).
    pub ring_local_users: u32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            device_users: 4,
            card_users: 3,
            phone_users: 3,
            address_users: 6,
            card_burst: 4,
            cards_total: 9,
            ring_min_users: 5,
            ring_max_users: 500,
            ring_local_users: 3,
        }
    }
}
