use std::io::Write;

use arbiter_engine::money::Money;

use super::*;

const HEADER: &str = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";

fn trade_row(trade: &str, ours: &str, amount: &str, fee: &str) -> String {
    format!(
        "{trade}\t,{ours}\t,交易,Order 1\t,2026-12-06 18:00:00,2026-12-06 18:00:05,,,,,buyer@example.com\t,{amount},{amount},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,{fee},0.00,"
    )
}

fn refund_row(trade: &str, ours: &str, request: &str, amount: &str, fee: &str) -> String {
    format!(
        "{trade}\t,{ours}\t,退款,Order 1\t,2026-12-06 18:00:00,2026-12-06 20:30:00,,,,,buyer@example.com\t,{amount},{amount},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,{request}\t,{fee},0.00,"
    )
}

fn detail(rows: &[String], trades: usize, refunds: usize) -> String {
    let mut text = String::from(
        "#支付宝业务明细查询\r\n#账号：[20881234567890120156]\r\n#起始日期：[2026年12月06日 00:00:00]   终止日期：[2026年12月07日 00:00:00]\r\n#-----------------------------------------业务明细列表----------------------------------------\r\n",
    );
    text.push_str(HEADER);
    text.push_str("\r\n");
    for row in rows {
        text.push_str(row);
        text.push_str("\r\n");
    }
    text.push_str("#-----------------------------------------业务明细列表结束------------------------------------\r\n");
    text.push_str(&format!("#交易合计：{trades}笔，退款合计：{refunds}笔\r\n"));
    text.push_str("#导出时间：[2026年12月07日 09:00:00]\r\n");
    text
}

/// A bill zip as Alipay ships it: the summary first, then the detail, both GBK.
fn bill(detail: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let summary = "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）\r\n,,2,1,60.00\r\n";
    zip.start_file("20881234567890120156_20261206_summary.csv", options)
        .expect("start");
    zip.write_all(&encoding_rs::GBK.encode(summary).0)
        .expect("write");
    zip.start_file("20881234567890120156_20261206_detail.csv", options)
        .expect("start");
    zip.write_all(&encoding_rs::GBK.encode(detail).0)
        .expect("write");
    zip.finish().expect("finish").into_inner()
}

fn cny(fen: i64) -> Money {
    Money::from_minor_units(fen, Currency::CNY)
}

#[test]
fn trades_and_refunds_are_read_from_the_gbk_detail_file_inside_the_zip() {
    let rows = read(&bill(&detail(
        &[
            trade_row("2026120622001400001", "pi_a", "50.00", "-0.30"),
            trade_row("2026120622001400002", "pi_b", "10.00", "-0.06"),
            refund_row("2026120622001400001", "pi_a", "re_a1", "-20.00", "0.12"),
        ],
        2,
        1,
    )))
    .expect("read");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        StatementRow {
            line: 6,
            id: "2026120622001400001".into(),
            kind: RowKind::Payment,
            channel_txn_id: "2026120622001400001".into(),
            our_ref: Some("pi_a".into()),
            gross: cny(5000),
            fee: cny(30),
            net: cny(4970),
            at: "2026-12-06T10:00:05Z".parse().expect("instant"),
        }
    );
    assert_eq!(rows[2].kind, RowKind::Refund);
    assert_eq!(rows[2].id, "2026120622001400001/re_a1");
    assert_eq!(rows[2].our_ref.as_deref(), Some("re_a1"));
    assert_eq!(
        (rows[2].gross, rows[2].fee, rows[2].net),
        (cny(-2000), cny(-12), cny(-1988))
    );
}

#[test]
fn a_bad_bill_is_refused_whole_with_its_line_named() {
    let good = trade_row("2026120622001400001", "pi_a", "50.00", "-0.30");
    let refused = |rows: &[String], trades, refunds| {
        read(&bill(&detail(rows, trades, refunds))).expect_err("refused")
    };
    let e = refused(&[trade_row("T2", "pi_b", "10.0", "-0.06")], 1, 0);
    assert_eq!(e.line, 6, "{e}");
    assert!(e.problem.contains("decimals"), "{e}");
    let e = refused(&[good.clone(), good.clone()], 2, 0);
    assert_eq!(e.line, 7, "{e}");
    assert!(e.problem.contains("twice"), "{e}");
    let e = refused(std::slice::from_ref(&good), 2, 0);
    assert_eq!(e.line, 8, "{e}");
    assert!(e.problem.contains("totals say 2 trades"), "{e}");
    let e = refused(&["T3,pi_c,交易".to_owned()], 1, 0);
    assert!(e.problem.contains("fields"), "{e}");

    // Cut short before its totals; truncated mid-zip; not GBK; a header without a column.
    let mut cut = detail(std::slice::from_ref(&good), 1, 0);
    cut.truncate(cut.find("#交易合计").expect("totals"));
    let e = read(&bill(&cut)).expect_err("refused");
    assert!(e.problem.contains("cut short"), "{e}");
    let whole = bill(&detail(std::slice::from_ref(&good), 1, 0));
    let e = read(&whole[..whole.len() / 2]).expect_err("refused");
    assert_eq!(e.line, 0, "{e}");
    assert!(e.problem.contains("zip"), "{e}");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("detail.csv", zip::write::SimpleFileOptions::default())
        .expect("start");
    let mut bytes = encoding_rs::GBK
        .encode(&detail(&[good], 1, 0))
        .0
        .into_owned();
    let at = bytes.len() - 20;
    bytes[at] = 0xff;
    zip.write_all(&bytes).expect("write");
    let not_gbk = zip.finish().expect("finish").into_inner();
    let e = read(&not_gbk).expect_err("refused");
    assert!(e.problem.contains("GBK"), "{e}");
    let e = read(&bill(&detail(&[], 0, 0).replace("服务费（元）", "手续费"))).expect_err("refused");
    assert_eq!(e.line, 5, "{e}");
    assert!(e.problem.contains("服务费"), "{e}");
}
