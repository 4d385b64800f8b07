//! Channel statement files the stories import: a card statement of one day, three rows.

/// A card statement of `day` (`YYYY-MM-DD`): a charge, a refund and a payout, ids tagged `tag`.
pub fn card_statement(tag: &str, day: &str) -> Vec<u8> {
    format!(
        "id,type,source,amount,fee,net,currency,created,reporting_category,payment_metadata[channel_payment_id]\n\
         txn_{tag}1,charge,ch_{tag}1,42.50,1.53,40.97,eur,{day} 10:00:00,charge,pi_{tag}\n\
         txn_{tag}2,refund,re_{tag}1,-10.00,0.00,-10.00,eur,{day} 11:00:00,refund,\n\
         txn_{tag}3,payout,po_{tag}1,-30.97,0.00,-30.97,eur,{day} 23:00:00,payout,\n"
    )
    .into_bytes()
}
