//! The results framework's records from the command line, on a real file:
//! a person's two IGAs each with its own launch, a follow-up survey, a
//! season, a referral to a built-in partner, a group session and its
//! attendance; every refusal one line naming the field, changing nothing.

mod common;

use common::{ok_json, wafira};
use serde_json::Value;
use std::path::Path;

const FATIMA: &str = r#"{"first_name":"Fatima","last_name":"El Idrissi","sex":"F","birth_date":"1990-03-14",
  "region":"04","consent":true}"#;
const AHMED: &str = r#"{"first_name":"Ahmed","last_name":"Bennani","sex":"M","birth_date":"1985-06-01",
  "region":"04","consent":true}"#;

fn days_ago(n: u64) -> String {
    (0..n).fold(wafira_core::Store::today(), |d, _| d.pred_opt().unwrap()).to_string()
}

fn changes(db: &Path) -> i64 {
    common::conn(db).query_row("SELECT count(*) FROM change", [], |r| r.get(0)).unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Refused in one line naming `field`, and nothing written.
fn refused(db: &Path, args: &[&str], stdin: &str, field: &str) {
    let before = changes(db);
    let out = wafira(db, args, Some(stdin));
    assert!(!out.status.success(), "{args:?} should be refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(field), "names {field}: {err}");
    assert_eq!(changes(db), before, "nothing written");
}

#[test]
fn a_persons_igas_surveys_season_referral_and_a_session_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Portable Taroudant", "--coordinator", "Youssef"], None));
    let fatima = id(&ok_json(wafira(&db, &["beneficiary", "add"], Some(FATIMA))));
    let ahmed = id(&ok_json(wafira(&db, &["beneficiary", "add"], Some(AHMED))));

    // Her first IGA: a grocery, informal; then a collective one with Ahmed.
    let shop = format!(
        r#"{{"beneficiary_id":"{fatima}","activity":"épicerie","sector":"commerce","form":"individual",
            "legal_status":"informal","invest_grant":"15000","invest_own":"2 000,50","jobs_created":1}}"#
    );
    let shop = ok_json(wafira(&db, &["iga", "add"], Some(&shop)));
    assert_eq!(shop["invest_own"], "2000.50", "amounts as the form stores them");
    let coop = format!(
        r#"{{"beneficiary_id":"{fatima}","activity":"couscous","sector":"agrifood","form":"collective",
            "members":["{ahmed}"],"legal_status":"cooperative","social_security":"cnss_amo"}}"#
    );
    let coop = ok_json(wafira(&db, &["iga", "add"], Some(&coop)));

    // With two IGAs, a milestone names which; each IGA has its own launch.
    let launch = |iga: &str, days: u64| {
        format!(r#"{{"beneficiary_id":"{fatima}","iga_id":"{iga}","kind":"iga_launched","date":"{}"}}"#, days_ago(days))
    };
    ok_json(wafira(&db, &["milestone", "add"], Some(&launch(&id(&shop), 400))));
    ok_json(wafira(&db, &["milestone", "add"], Some(&launch(&id(&coop), 100))));
    let unnamed = format!(r#"{{"beneficiary_id":"{fatima}","kind":"first_sale","date":"{}"}}"#, days_ago(50));
    refused(&db, &["milestone", "add"], &unnamed, "iga_id");

    // A survey at 12 months: operating, turnover and profit kept apart.
    let survey = format!(
        r#"{{"iga_id":"{}","date":"{}","operating":true,"monthly_turnover":"6000","monthly_profit":"-250",
            "sales_channels":["shop","local_market","shop"]}}"#,
        id(&shop),
        days_ago(30)
    );
    let survey = ok_json(wafira(&db, &["followup", "add"], Some(&survey)));
    assert_eq!(survey["beneficiary_id"], fatima.as_str(), "the survey is hers, from the IGA");
    assert_eq!(survey["monthly_profit"], "-250.00", "a loss is a negative profit");
    assert_eq!(survey["sales_channels"], serde_json::json!(["local_market", "shop"]));
    let not_operating = format!(r#"{{"iga_id":"{}","date":"{}","operating":false}}"#, id(&coop), days_ago(3));
    refused(&db, &["followup", "add"], &not_operating, "not_operating_reason");
    let more_profit = format!(
        r#"{{"iga_id":"{}","date":"{}","operating":true,"monthly_turnover":"100","monthly_profit":"500"}}"#,
        id(&coop),
        days_ago(3)
    );
    refused(&db, &["followup", "add"], &more_profit, "monthly_profit");

    // A season in Spain; its return before its departure is refused.
    let season = format!(
        r#"{{"beneficiary_id":"{ahmed}","year":2025,"country":"es","departure_date":"2025-02-01","return_date":"2025-06-15","returned_as_planned":true}}"#
    );
    assert_eq!(ok_json(wafira(&db, &["season", "add"], Some(&season)))["country"], "ES");
    let backwards = format!(
        r#"{{"beneficiary_id":"{ahmed}","year":2025,"country":"FR","departure_date":"2025-06-01","return_date":"2025-02-01"}}"#
    );
    refused(&db, &["season", "add"], &backwards, "return_date");

    // A referral to ANAPEC, a built-in partner every station knows.
    let partners = ok_json(wafira(&db, &["partner", "list"], None));
    let anapec = partners.as_array().unwrap().iter().find(|p| p["code"] == "anapec").unwrap()["id"].clone();
    let referral = format!(
        r#"{{"beneficiary_id":"{fatima}","partner_id":{anapec},"date":"{}","outcome":"pending"}}"#,
        days_ago(10)
    );
    let referral = ok_json(wafira(&db, &["referral", "add"], Some(&referral)));
    let taken = ok_json(wafira(&db, &["referral", "update", &id(&referral)], Some(r#"{"outcome":"taken_up"}"#)));
    assert_eq!(taken["outcome"], "taken_up");
    let nowhere = format!(
        r#"{{"beneficiary_id":"{fatima}","partner_id":"{}","date":"{}","outcome":"pending"}}"#,
        uuid::Uuid::now_v7(),
        days_ago(10)
    );
    refused(&db, &["referral", "add"], &nowhere, "partner_id");

    // A financial education session; both attend, then Ahmed is unticked.
    let session =
        format!(r#"{{"kind":"financial_education","module":"budget","date":"{}","place":"Dar Chabab"}}"#, days_ago(2));
    let session = id(&ok_json(wafira(&db, &["session", "add"], Some(&session))));
    let taken = ok_json(wafira(&db, &["session", "attend", &session, "--person", &fatima, "--person", &ahmed], None));
    assert_eq!(taken["ticked"], 2);
    let taken = ok_json(wafira(&db, &["session", "attend", &session, "--person", &fatima], None));
    assert_eq!((taken["ticked"].as_i64(), taken["unticked"].as_i64()), (Some(0), Some(1)));
    let present: i64 = common::conn(&db)
        .query_row("SELECT count(*) FROM attendance WHERE archived_at IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(present, 1);
    let no_module = format!(r#"{{"kind":"financial_education","date":"{}"}}"#, days_ago(2));
    refused(&db, &["session", "add"], &no_module, "module");

    // Her IGAs listed; one withdrawn with a reason, then put back.
    let igas = ok_json(wafira(&db, &["iga", "list", "--person", &fatima], None));
    assert_eq!(igas.as_array().map(Vec::len), Some(2));
    ok_json(wafira(&db, &["iga", "void", &id(&coop), "--reason", "saisi deux fois"], None));
    assert_eq!(ok_json(wafira(&db, &["iga", "list", "--person", &fatima], None)).as_array().map(Vec::len), Some(1));
    let back = ok_json(wafira(&db, &["iga", "restore", &id(&coop)], None));
    assert!(back["archived_at"].is_null());
}
