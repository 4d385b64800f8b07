//! The `arbiter:policy/types` interface a guest imports, in the shape of each ABI major:
//! type definitions only, as `wit-component` writes them for a real policy.

use super::Abi;

/// The `arbiter:policy/types` interface at `version` in the shape of `abi`, imported, with
/// the world-level type imports a real policy component carries.
pub(super) fn types_import(abi: Abi, version: &str, extra_export: &str) -> String {
    match abi {
        Abi::V1 => types_import_v1(version, extra_export),
        Abi::V2 => types_import_v2(version, extra_export),
    }
}

fn types_import_v2(version: &str, extra_export: &str) -> String {
    format!(
        r#"
  (type $types-ty
    (instance
      (type (;0;) (enum "none" "accept" "challenge" "reject"))
      (export (;1;) "action" (type (eq 0)))
      (type (;2;) (option string))
      (type (;3;) (record (field "code" string) (field "detail" 2)))
      (export (;4;) "reason" (type (eq 3)))
      (type (;5;) (list 4))
      (type (;6;) (record (field "action" 1) (field "score" f32) (field "reasons" 5)))
      (export (;7;) "verdict" (type (eq 6)))
      {extra_export}
    )
  )
  (import "arbiter:policy/types@{version}" (instance $types (type $types-ty)))
  (alias export $types "verdict" (type $verdict-def))
  (import "verdict" (type $verdict (eq $verdict-def)))
"#
    )
}

fn types_import_v1(version: &str, extra_export: &str) -> String {
    format!(
        r#"
  (type $types-ty
    (instance
      (type (;0;) (enum "order-create" "payment-authorize" "refund-request" "account-login" "promo-redeem"))
      (export (;1;) "checkpoint" (type (eq 0)))
      (type (;2;) (record (field "value" f64) (field "minor-units" s64) (field "currency" string)))
      (export (;3;) "amount" (type (eq 2)))
      (type (;4;) (record (field "count-1h" u32) (field "sum-1h" f64) (field "count-24h" u32) (field "sum-24h" f64)))
      (export (;5;) "window-stats" (type (eq 4)))
      (type (;6;) (option 5))
      (type (;7;) (record (field "user" 5) (field "device" 6) (field "card" 6) (field "ip" 6) (field "email" 6)))
      (export (;8;) "velocity" (type (eq 7)))
      (type (;9;) (option u8))
      (type (;10;) (record (field "group-entities" u32) (field "group-users" u32) (field "users-per-device" u32) (field "users-per-card" u32) (field "users-per-address" u32) (field "users-per-phone" u32) (field "cards-per-device" u32) (field "cards-per-user" u32) (field "hops-to-fraud" 9) (field "fraud-share-2hop" f32) (field "score" f32)))
      (export (;11;) "graph-features" (type (eq 10)))
      (type (;12;) (option 3))
      (type (;13;) (option u32))
      (type (;14;) (option string))
      (type (;15;) (tuple string string))
      (type (;16;) (list 15))
      (type (;17;) (option 11))
      (type (;18;) (list string))
      (type (;19;) (record (field "checkpoint" 1) (field "request-id" string) (field "amount" 12) (field "user-id" string) (field "account-age-days" 13) (field "email" 14) (field "email-domain" 14) (field "phone" 14) (field "device-id" 14) (field "ip" 14) (field "ip-country" 14) (field "is-proxy" bool) (field "payment-method" 14) (field "card-fingerprint" 14) (field "card-bin" 14) (field "card-country" 14) (field "shipping-address-hash" 14) (field "shipping-country" 14) (field "order-id" 14) (field "attributes" 16) (field "velocity" 8) (field "graph" 17) (field "watch-hits" 18)))
      (export (;20;) "context" (type (eq 19)))
      (type (;21;) (enum "none" "accept" "challenge" "reject"))
      (export (;22;) "action" (type (eq 21)))
      (type (;23;) (record (field "code" string) (field "detail" 14)))
      (export (;24;) "reason" (type (eq 23)))
      (type (;25;) (list 24))
      (type (;26;) (record (field "action" 22) (field "score" f32) (field "reasons" 25)))
      (export (;27;) "verdict" (type (eq 26)))
      {extra_export}
    )
  )
  (import "arbiter:policy/types@{version}" (instance $types (type $types-ty)))
  (alias export $types "context" (type $context-def))
  (import "context" (type $context (eq $context-def)))
  (alias export $types "verdict" (type $verdict-def))
  (import "verdict" (type $verdict (eq $verdict-def)))
"#
    )
}
