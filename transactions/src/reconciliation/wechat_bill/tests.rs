use super::*;

const HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

fn paid(transaction: &str, ours: &str, amount: &str, fee: &str) -> String {
    format!(
        "`2026-12-06 18:00:05,`wxd678efh567hg6787,`1900000109,`0,`,`{transaction},`{ours},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`OTHERS,`CNY,`{amount},`0.00,`0,`0,`0.00,`0.00,`,`,`Order 1,`,`{fee},`0.60%,`{amount},`0.00,`"
    )
}

fn refunded(
    transaction: &str,
    ours: &str,
    refund: &str,
    our_refund: &str,
    amount: &str,
    fee: &str,
) -> String {
    format!(
        "`2026-12-06 20:30:00,`wxd678efh567hg6787,`1900000109,`0,`,`{transaction},`{ours},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`{refund},`{our_refund},`{amount},`0.00,`ORIGINAL,`SUCCESS,`Order 1,`,`{fee},`0.60%,`0.00,`{amount},`"
    )
}

fn bill(rows: &[String], count: usize) -> String {
    let mut text = format!("{HEADER}\r\n");
    for row in rows {
        text.push_str(row);
        text.push_str("\r\n");
    }
    text.push_str(SUMMARY_HEADER);
    text.push_str(&format!(
        "\r\n`{count},`88.80,`20.00,`0.00,`0.53000,`88.80,`20.00\r\n"
    ));
    text
}

fn cny(fen: i64) -> Money {
    Money::from_minor_units(fen, Currency::CNY)
}

#[test]
fn payments_and_refunds_are_read_without_their_backticks() {
    let rows = read(
        bill(
            &[
                paid("4200000001", "pi_a", "88.80", "0.53000"),
                refunded(
                    "4200000001",
                    "pi_a",
                    "50300000001",
                    "re_a1",
                    "20.00",
                    "-0.12000",
                ),
            ],
            2,
        )
        .as_bytes(),
    )
    .expect("read");
    assert_eq!(
        rows[0],
        StatementRow {
            line: 2,
            id: "4200000001".into(),
            kind: RowKind::Payment,
            channel_txn_id: "4200000001".into(),
            our_ref: Some("pi_a".into()),
            gross: cny(8880),
            fee: cny(53),
            net: cny(8827),
            at: "2026-12-06T10:00:05Z".parse().expect("instant"),
        }
    );
    assert_eq!(
        (
            rows[1].kind.clone(),
            rows[1].id.as_str(),
            rows[1].our_ref.as_deref()
        ),
        (RowKind::Refund, "50300000001", Some("re_a1"))
    );
    assert_eq!(
        (rows[1].gross, rows[1].fee, rows[1].net),
        (cny(-2000), cny(-12), cny(-1988))
    );
}

#[test]
fn a_bad_bill_is_refused_whole_with_its_line_named() {
    let good = paid("4200000001", "pi_a", "88.80", "0.53000");
    let refused = |rows: &[String], count| read(bill(rows, count).as_bytes()).expect_err("refused");
    for (row, says) in [
        (paid("4200000002", "pi_b", "88.8", "0.53000"), "decimals"),
        (
            paid("4200000002", "pi_b", "88.80", "0.53100"),
            "whole number of fen",
        ),
        (paid("4200000002", "pi_b", "88.80", "0.530"), "2 or 5"),
        (paid("4200000002", "", "88.80", "0.53000"), "is empty"),
        (good.replace("`CNY", "`USD"), "only CNY"),
        ("`2026-12-06 18:00:05,`x".to_owned(), "fields"),
    ] {
        let e = refused(std::slice::from_ref(&row), 1);
        assert_eq!(e.line, 2, "{row}: {e}");
        assert!(e.problem.contains(says), "{row}: {e}");
    }
    let e = refused(&[good.clone(), good.clone()], 2);
    assert_eq!(e.line, 3, "{e}");
    assert!(e.problem.contains("twice"), "{e}");
    let e = refused(std::slice::from_ref(&good), 3);
    assert_eq!(e.line, 4, "{e}");
    assert!(e.problem.contains("counts 3 rows"), "{e}");
    let whole = bill(std::slice::from_ref(&good), 1);
    let cut = &whole[..whole.find(SUMMARY_HEADER).expect("summary")];
    let e = read(cut.as_bytes()).expect_err("refused");
    assert!(e.problem.contains("cut short"), "{e}");
    let e = read(&encoding_rs::GBK.encode(&whole).0).expect_err("refused");
    assert_eq!((e.line, e.problem.as_str()), (1, "not UTF-8 text"));
    let e = read(whole.replace("手续费,", "费用,").as_bytes()).expect_err("refused");
    assert_eq!((e.line, e.problem.as_str()), (1, "no `手续费` column"));
}
