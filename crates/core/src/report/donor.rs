//! The parts of the summary a manager sends to a donor (docs/reports.md):
//! the narrative typed before printing, the logframe table (level,
//! indicator, baseline, target, this period, cumulative, comment), the
//! tables by sex, age group and disability, and the charts of key
//! figures. Every number comes from [`Indicators`] (the results framework
//! included), as on the dashboard; no person is named.
//!
//! Each column of figures is set beside its own target (key figures,
//! indicators.rs): the cumulative one against the end-of-project target,
//! the period's against the target of the calendar year the period lies
//! within, and against none when it spans two years.

use super::indicators::{progress, Against, Indicators, KeyFigure, Unit};
use super::results::{BySex, Split, Survival};
use super::sheet::{Col, Sheet, Side, ACCENT, INK, MUTED, RULE, WARN, WIDTH, ZEBRA};
use super::words::Words;
use crate::codes::Sex;
use crate::error::Result;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use wafira_pdf::{Direction, Rgb, Weight};

/// The colour of the men's bars, beside the accent of the women's.
const MEN: Rgb = Rgb(120, 144, 176);
/// Status unknown.
const UNKNOWN: Rgb = Rgb(190, 196, 202);

/// A column of numbers, right-aligned on every page (see `pdf::num`).
fn num(w: &Words, width: f32) -> Col {
    if w.rtl() {
        Col::start(width)
    } else {
        Col::end(width)
    }
}

/// The direction of a paragraph from its first letter (as HTML's
/// `dir="auto"`): a French sentence on an Arabic page keeps its full stop
/// at its end, an Arabic one on a French page reads right to left.
fn direction_of(text: &str) -> Option<Direction> {
    let c = text.chars().find(|c| c.is_alphabetic())?;
    let arabic = matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}');
    Some(if arabic { Direction::Rtl } else { Direction::Ltr })
}

/// The manager's narrative, paragraph by paragraph as typed.
pub fn narrative(s: &mut Sheet<'_>, text: &str) -> Result<()> {
    let w = s.words;
    s.heading(&w.t("report.narrative"))?;
    let page = s.doc.direction();
    for para in text.split('\n') {
        if para.trim().is_empty() {
            s.y += 2.0;
        } else {
            s.doc.set_direction(direction_of(para).unwrap_or(page));
            let printed = s.paragraph(para.trim_end(), 9.5, INK);
            s.doc.set_direction(page);
            printed?;
        }
    }
    Ok(())
}

/// One line of the logframe.
struct Line {
    outcome: bool,
    indicator: String,
    baseline: String,
    /// The target of the period's year, beside the period's figure.
    period_target: String,
    period: String,
    /// The end-of-project target, beside the cumulative figure.
    target: String,
    cumulative: String,
    comment: String,
}

fn value(w: &Words, unit: Unit, v: Decimal) -> String {
    match unit {
        Unit::People => w.decimal(v, 0),
        Unit::Percent => w.percent(v),
        Unit::Mad => w.money(v),
    }
}

fn share(w: &Words, s: &Survival) -> String {
    match s.share.all {
        Some(p) => format!("{} ({}/{})", w.percent(p), w.int(s.operating.all), w.int(s.eligible.all)),
        None => "—".into(),
    }
}

fn money(w: &Words, m: Option<Decimal>) -> String {
    m.map_or_else(|| "—".into(), |m| w.money(m))
}

impl Line {
    fn new(outcome: bool, indicator: String, period: String, cumulative: String, comment: String) -> Line {
        let none = || "—".to_string();
        Line {
            outcome,
            indicator,
            baseline: none(),
            period_target: none(),
            period,
            target: none(),
            cumulative,
            comment,
        }
    }
}

/// A count line, each figure beside its target.
#[allow(clippy::too_many_arguments)]
fn count_line(
    w: &Words,
    outcome: bool,
    key: &str,
    period: u64,
    cumulative: u64,
    figure: Option<&KeyFigure>,
    comment: String,
) -> Line {
    let mut line = Line::new(outcome, w.t(key), w.int(period), w.int(cumulative), comment);
    targeted(w, &mut line, Unit::People, Some(Decimal::from(period)), Some(Decimal::from(cumulative)), figure);
    line
}

/// Fills the baseline and targets of a line from its key figure's, and
/// says in its comment how far each figure of the line is of its target:
/// the cumulative of the end-of-project target, the period of its year's.
fn targeted(
    w: &Words,
    line: &mut Line,
    unit: Unit,
    period: Option<Decimal>,
    cumulative: Option<Decimal>,
    figure: Option<&KeyFigure>,
) {
    let Some(k) = figure else { return };
    let mut said = Vec::new();
    if let Some(t) = &k.cumulative.all.target {
        line.target = value(w, unit, t.target);
        if t.default {
            line.target = format!("{}*", line.target);
        }
        if let Some(p) = cumulative.and_then(|v| progress(v, t.target)) {
            said.push(w.tp("report.lf_progress", &[("progress", &w.percent(p))]));
        }
    }
    if let Some(t) = &k.period.all.target {
        line.period_target = value(w, unit, t.target);
        if let (Some(p), Some(year)) = (period.and_then(|v| progress(v, t.target)), t.year) {
            let year = year.to_string();
            said.push(w.tp("report.lf_period_progress", &[("progress", &w.percent(p)), ("year", &year)]));
        }
    }
    let baseline = k.cumulative.all.target.iter().chain(&k.period.all.target).find_map(|t| t.baseline);
    if let Some(b) = baseline {
        line.baseline = value(w, unit, b);
    }
    if !said.is_empty() {
        let said = said.join(" · ");
        line.comment = if line.comment.is_empty() { said } else { format!("{} · {said}", line.comment) };
    }
}

/// Women's and men's cumulative counts, each with its own end-of-project
/// target where one is set for that sex.
fn women_men_of(w: &Words, b: &BySex, figure: Option<&KeyFigure>) -> String {
    let of = |sex: Sex, n: u64| {
        let split =
            figure.and_then(|k| if sex == Sex::F { k.cumulative.women.as_ref() } else { k.cumulative.men.as_ref() });
        match split.and_then(|a: &Against| a.target.as_ref()) {
            Some(t) => w.tp("report.lf_of_sex_target", &[("value", &w.int(n)), ("target", &w.decimal(t.target, 0))]),
            None => w.int(n),
        }
    };
    w.tp("report.lf_women_men", &[("women", &of(Sex::F, b.women)), ("men", &of(Sex::M, b.men))])
}

/// The people registered since the start to the period's end, by sex: the
/// results framework's cumulative count of people (each counted once,
/// under one disability status), with the same filters.
fn registered_cumulative(i: &Indicators) -> BySex {
    let mut out = BySex::default();
    for b in i.results.people.cumulative.by_disability.values() {
        out.all += b.all;
        out.women += b.women;
        out.men += b.men;
    }
    out
}

/// The people who launched an IGA, by sex, for the period or since the
/// start: the key figure `iga_launched` (each person once, in the period of
/// her first launch of a live IGA; docs/indicators.md), so the logframe,
/// the tables by sex and the charts count what the dashboard, the CLI and
/// the workbook count, in the unit of its target. Not the IGAs launched
/// (`decent_work.igas`): a person with two counts once here.
fn launched(i: &Indicators, cumulative: bool) -> BySex {
    let Some(k) = i.key_figures.iter().find(|k| k.indicator == "iga_launched") else { return BySex::default() };
    let m = if cumulative { &k.cumulative } else { &k.period };
    let n = |a: Option<&Against>| a.and_then(|a| a.value).and_then(|v| v.to_u64()).unwrap_or(0);
    let all = n(Some(&m.all));
    // Filtered to one sex, everyone's figure is hers (or his).
    let (women, men) = match i.filters.sex {
        None => (n(m.women.as_ref()), n(m.men.as_ref())),
        Some(Sex::F) => (all, 0),
        Some(Sex::M) => (0, all),
    };
    BySex { all, women, men }
}

/// The logframe: outputs, then outcomes, for the period and cumulative to
/// the period's end.
pub fn logframe(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let r = &i.results;
    let target = |name: &str| i.key_figures.iter().find(|k| k.indicator == name);
    let women_men = |b: &BySex, name: &str| women_men_of(w, b, target(name));
    let (pp, pc) = (&r.participation.period, &r.participation.cumulative);
    let (dp, dc) = (&r.decent_work.period, &r.decent_work.cumulative);
    let registered = registered_cumulative(i);
    let (lp, lc) = (launched(i, false), launched(i, true));
    let mut lines = vec![
        count_line(
            w,
            false,
            "indicator.beneficiaries_registered",
            i.beneficiaries.registered,
            registered.all,
            target("beneficiaries_registered"),
            women_men(&registered, "beneficiaries_registered"),
        ),
        count_line(
            w,
            false,
            "indicator.women_registered",
            i.beneficiaries.women,
            registered.women,
            target("women_registered"),
            String::new(),
        ),
        count_line(w, false, "report.lf_men_registered", i.beneficiaries.men, registered.men, None, String::new()),
        count_line(
            w,
            false,
            "report.lf_pre_departure",
            pp.pre_departure_oriented.all,
            pc.pre_departure_oriented.all,
            target("pre_departure_oriented"),
            women_men(&pc.pre_departure_oriented, "pre_departure_oriented"),
        ),
        count_line(
            w,
            false,
            "report.lf_financial_education",
            pp.financial_education_completed.all,
            pc.financial_education_completed.all,
            target("financial_education_completed"),
            women_men(&pc.financial_education_completed, "financial_education_completed"),
        ),
        count_line(
            w,
            false,
            "indicator.iga_launched",
            lp.all,
            lc.all,
            target("iga_launched"),
            women_men(&lc, "iga_launched"),
        ),
        count_line(
            w,
            false,
            "report.lf_referrals_taken_up",
            pp.referrals_taken_up.all,
            pc.referrals_taken_up.all,
            target("referrals_taken_up"),
            w.tp("report.lf_of_referrals", &[("n", &w.int(pc.referrals_made.all))]),
        ),
    ];
    // Outcomes.
    let (s12, s6) = (&r.survival_12_months, &r.survival_6_months);
    for (key, s, tgt) in [
        ("report.lf_survival_12", s12, target("share_sustained_of_launched")),
        ("report.lf_survival_6", s6, target("survival_6_months")),
    ] {
        let comment = w.tp(
            "report.lf_unknown",
            &[("period", &w.int(s.period.unknown.all)), ("cumulative", &w.int(s.cumulative.unknown.all))],
        );
        let mut line = Line::new(true, w.t(key), share(w, &s.period), share(w, &s.cumulative), comment);
        targeted(w, &mut line, Unit::Percent, s.period.share.all, s.cumulative.share.all, tgt);
        lines.push(line);
    }
    let (ip, ic) = (&r.income_12_months.period, &r.income_12_months.cumulative);
    let mut profit = Line::new(
        true,
        w.t("report.lf_profit_12"),
        money(w, ip.median_profit.all),
        money(w, ic.median_profit.all),
        w.tp("report.lf_surveyed", &[("period", &w.int(ip.surveyed.all)), ("cumulative", &w.int(ic.surveyed.all))]),
    );
    let profit_target = target("median_profit_12_months");
    targeted(w, &mut profit, Unit::Mad, ip.median_profit.all, ic.median_profit.all, profit_target);
    lines.push(profit);
    lines.push(Line::new(
        true,
        w.t("report.lf_profit_change_12"),
        money(w, ip.median_change_from_baseline.all),
        money(w, ic.median_change_from_baseline.all),
        w.t("report.lf_change_note"),
    ));
    let of_igas = |n: u64| w.tp("report.lf_of_igas", &[("n", &w.int(n))]);
    lines.push(count_line(
        w,
        true,
        "report.lf_formalised",
        dp.formalised.all,
        dc.formalised.all,
        target("igas_formalised"),
        of_igas(dc.igas.all),
    ));
    lines.push(count_line(
        w,
        true,
        "report.lf_social_security",
        dp.social_security.all,
        dc.social_security.all,
        target("igas_with_social_security"),
        of_igas(dc.igas.all),
    ));
    lines.push(count_line(
        w,
        true,
        "report.lf_jobs_created",
        dp.jobs_created.all,
        dc.jobs_created.all,
        target("jobs_created"),
        women_men(&dc.jobs_created, "jobs_created"),
    ));

    s.heading(&w.t("report.logframe"))?;
    s.paragraph(&w.t("report.logframe_intro"), 8.5, MUTED)?;
    let period_target = match i.period_year {
        Some(year) => w.tp("report.lf_period_target", &[("year", &year.to_string())]),
        None => w.t("report.lf_period_target_none"),
    };
    let header = [
        w.t("report.lf_level"),
        w.t("field.indicator"),
        w.t("field.baseline"),
        period_target,
        w.t("report.lf_period"),
        w.t("report.lf_target"),
        w.t("report.lf_cumulative"),
        w.t("report.lf_comment"),
    ];
    let rows: Vec<Vec<String>> = lines
        .into_iter()
        .map(|l| {
            let level = w.t(if l.outcome { "report.lf_outcome" } else { "report.lf_output" });
            vec![level, l.indicator, l.baseline, l.period_target, l.period, l.target, l.cumulative, l.comment]
        })
        .collect();
    let cols = [
        Col::start(15.0),
        Col::start(45.0),
        num(w, 15.0),
        num(w, 13.0),
        num(w, 21.0),
        num(w, 14.0),
        num(w, 21.0),
        Col::start(30.0),
    ];
    s.table_wrapped(&cols, &header, &rows)?;
    s.paragraph(&w.t("report.logframe_note"), 8.0, MUTED)?;
    if i.period_year.is_none() {
        s.paragraph(&w.t("report.lf_no_period_target"), 8.0, MUTED)?;
    }
    Ok(())
}

/// Every count of the results framework by sex, for the period and
/// cumulatively.
pub fn by_sex(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let r = &i.results;
    let reg = |x: &Indicators| BySex {
        all: x.beneficiaries.registered,
        women: x.beneficiaries.women,
        men: x.beneficiaries.men,
    };
    let (pp, pc) = (&r.participation.period, &r.participation.cumulative);
    let (dp, dc) = (&r.decent_work.period, &r.decent_work.cumulative);
    let (s12p, s12c) = (&r.survival_12_months.period, &r.survival_12_months.cumulative);
    let items: Vec<(String, BySex, BySex)> = vec![
        (w.t("indicator.beneficiaries_registered"), reg(i), registered_cumulative(i)),
        (w.t("report.lf_pre_departure"), pp.pre_departure_oriented, pc.pre_departure_oriented),
        (w.t("report.lf_financial_education"), pp.financial_education_completed, pc.financial_education_completed),
        (w.t("indicator.iga_launched"), launched(i, false), launched(i, true)),
        (w.t("report.lf_survival_eligible"), s12p.eligible, s12c.eligible),
        (w.t("report.lf_survival_operating"), s12p.operating, s12c.operating),
        (w.t("report.lf_survival_unknown"), s12p.unknown, s12c.unknown),
        (w.t("report.lf_referrals_made"), pp.referrals_made, pc.referrals_made),
        (w.t("report.lf_referrals_taken_up"), pp.referrals_taken_up, pc.referrals_taken_up),
        (w.t("report.lf_formalised"), dp.formalised, dc.formalised),
        (w.t("report.lf_social_security"), dp.social_security, dc.social_security),
        (w.t("report.lf_jobs_created"), dp.jobs_created, dc.jobs_created),
    ];
    s.heading(&w.t("report.disaggregation"))?;
    s.subheading(&w.t("report.by_sex"))?;
    let mut rows: Vec<Vec<String>> = items.iter().map(|(label, p, c)| sex_row(w, label, p, c)).collect();
    // Shares and medians by sex: survival, then income, at 6 and 12 months.
    let percent = |v: Option<Decimal>| v.map_or_else(|| "—".into(), |p| w.percent(p));
    // Amounts without their unit, which the label carries: the columns
    // stay narrow.
    let mad = |v: Option<Decimal>| {
        v.map_or_else(|| "—".into(), |m| w.money(m).trim_end_matches(w.currency()).trim_end().to_string())
    };
    let in_mad = |key: &str| format!("{} ({})", w.t(key), w.currency());
    for (key, sv) in [("report.lf_survival_6", &r.survival_6_months), ("report.lf_survival_12", &r.survival_12_months)]
    {
        rows.push(split_row(&w.t(key), &sv.period.share, &sv.cumulative.share, percent));
    }
    for (horizon, income) in [("6", &r.income_6_months), ("12", &r.income_12_months)] {
        let (p, c) = (&income.period, &income.cumulative);
        let (profit, change) = (format!("report.lf_profit_{horizon}"), format!("report.lf_profit_change_{horizon}"));
        rows.push(split_row(&in_mad(&profit), &p.median_profit, &c.median_profit, mad));
        rows.push(split_row(&in_mad(&change), &p.median_change_from_baseline, &c.median_change_from_baseline, mad));
    }
    sex_table(s, &rows)
}

fn sex_row(w: &Words, label: &str, p: &BySex, c: &BySex) -> Vec<String> {
    vec![label.to_string(), w.int(p.women), w.int(p.men), w.int(p.all), w.int(c.women), w.int(c.men), w.int(c.all)]
}

/// A row of shares or medians: women, men, everyone; period, then cumulative.
fn split_row(label: &str, p: &Split, c: &Split, shown: impl Fn(Option<Decimal>) -> String) -> Vec<String> {
    vec![label.to_string(), shown(p.women), shown(p.men), shown(p.all), shown(c.women), shown(c.men), shown(c.all)]
}

fn sex_table(s: &mut Sheet<'_>, rows: &[Vec<String>]) -> Result<()> {
    let w = s.words;
    let header = [
        String::new(),
        w.t("report.lf_women_period"),
        w.t("report.lf_men_period"),
        w.t("report.lf_total_period"),
        w.t("report.lf_women_cumulative"),
        w.t("report.lf_men_cumulative"),
        w.t("report.lf_total_cumulative"),
    ];
    let cols = [Col::start(60.0), num(w, 19.0), num(w, 19.0), num(w, 19.0), num(w, 19.0), num(w, 19.0), num(w, 19.0)];
    s.table_wrapped(&cols, &header, rows)
}

/// People by age group and by disability, women and men, for the period
/// and cumulatively (results framework: age on the period's last day).
pub fn by_age_and_disability(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let (p, c) = (&i.results.people.period, &i.results.people.cumulative);
    let none = BySex::default();
    let mut groups: Vec<String> = super::results::AGE_GROUPS.iter().map(|g| g.0.to_string()).collect();
    for g in c.by_age_group.keys() {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .filter(|g| c.by_age_group.contains_key(*g) || super::results::AGE_GROUPS.iter().any(|a| a.0 == g.as_str()))
        .map(|g| {
            let label =
                if g == "under 15" { w.t("report.age_under_15") } else { w.tp("report.age_group", &[("group", g)]) };
            sex_row(w, &label, p.by_age_group.get(g).unwrap_or(&none), c.by_age_group.get(g).unwrap_or(&none))
        })
        .collect();
    s.subheading(&w.t("report.by_age_group"))?;
    sex_table(s, &rows)?;
    let rows: Vec<Vec<String>> = ["yes", "no", "not_asked"]
        .iter()
        .map(|d| {
            let label = w.t(&format!("report.disability_{d}"));
            sex_row(w, &label, p.by_disability.get(*d).unwrap_or(&none), c.by_disability.get(*d).unwrap_or(&none))
        })
        .collect();
    s.subheading(&w.t("report.by_disability"))?;
    sex_table(s, &rows)?;
    s.paragraph(&w.t("report.by_disability_note"), 8.0, MUTED)
}

/// Key figures as horizontal bars, women and men side by side
/// (cumulative), then IGA survival as bars of operating, not operating
/// and unknown.
pub fn charts(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let r = &i.results;
    let (pc, dc) = (&r.participation.cumulative, &r.decent_work.cumulative);
    let items: Vec<(String, BySex)> = vec![
        (w.t("indicator.beneficiaries_registered"), registered_cumulative(i)),
        (w.t("report.lf_pre_departure"), pc.pre_departure_oriented),
        (w.t("report.lf_financial_education"), pc.financial_education_completed),
        (w.t("indicator.iga_launched"), launched(i, true)),
        (w.t("report.lf_referrals_taken_up"), pc.referrals_taken_up),
        (w.t("report.lf_jobs_created"), dc.jobs_created),
    ];
    s.heading(&w.t("report.charts"))?;
    s.subheading(&w.t("report.chart_by_sex"))?;
    legend(s, &[(ACCENT, w.t("report.lf_women_cumulative")), (MEN, w.t("report.lf_men_cumulative"))])?;
    let max = items.iter().map(|(_, b)| b.women.max(b.men)).max().unwrap_or(0).max(1);
    let (label_w, bar_w) = (62.0, 90.0);
    for (label, b) in &items {
        s.ensure(12.0);
        let y = s.y;
        let lines = s.doc.wrap(label, 8.5, Weight::Regular, label_w - 3.0);
        for (n, line) in lines.iter().take(2).enumerate() {
            s.text(0.0, y + 1.0 + 3.6 * n as f32, 8.5, Weight::Regular, INK, Side::Start, line)?;
        }
        for (n, (count, color)) in [(b.women, ACCENT), (b.men, MEN)].into_iter().enumerate() {
            let top = y - 2.6 + 4.2 * n as f32;
            let len = bar_w * count as f32 / max as f32;
            s.rect(label_w, top, bar_w, 3.4, Some(ZEBRA), None)?;
            if len > 0.0 {
                s.rect(label_w, top, len, 3.4, Some(color), None)?;
            }
            s.text(label_w + len + 1.5, top + 2.8, 7.5, Weight::Bold, INK, Side::Start, &w.int(count))?;
        }
        s.hline(0.0, WIDTH, y + 6.6, 0.2, RULE)?;
        s.y = y + 11.0;
    }
    s.y += 2.0;
    s.subheading(&w.t("report.chart_survival"))?;
    legend(
        s,
        &[
            (ACCENT, w.t("report.lf_status_operating")),
            (WARN, w.t("report.lf_status_not_operating")),
            (UNKNOWN, w.t("report.lf_status_unknown")),
        ],
    )?;
    for (key, sv) in [
        ("report.lf_survival_6", &r.survival_6_months.cumulative),
        ("report.lf_survival_12", &r.survival_12_months.cumulative),
    ] {
        s.ensure(12.0);
        let y = s.y;
        let label = s.fit(&w.t(key), 8.5, Weight::Regular, label_w - 3.0);
        s.text(0.0, y + 1.0, 8.5, Weight::Regular, INK, Side::Start, &label)?;
        let total = sv.eligible.all;
        let mut x = label_w;
        if total == 0 {
            s.rect(label_w, y - 2.6, bar_w, 5.0, Some(ZEBRA), Some(RULE))?;
            s.text(label_w + 2.0, y + 1.0, 7.5, Weight::Regular, MUTED, Side::Start, &w.t("report.no_data"))?;
        } else {
            for (n, color) in [(sv.operating.all, ACCENT), (sv.not_operating.all, WARN), (sv.unknown.all, UNKNOWN)] {
                let len = bar_w * n as f32 / total as f32;
                if len > 0.0 {
                    s.rect(x, y - 2.6, len, 5.0, Some(color), None)?;
                    if len > 6.0 {
                        let fg = if color == UNKNOWN { INK } else { Rgb::WHITE };
                        s.text(x + len / 2.0, y + 1.0, 7.0, Weight::Bold, fg, Side::Center, &w.int(n))?;
                    }
                }
                x += len;
            }
        }
        let note = w.tp("report.lf_eligible", &[("n", &w.int(total))]);
        s.text(label_w + bar_w + 2.0, y + 1.0, 7.5, Weight::Regular, MUTED, Side::Start, &note)?;
        s.y = y + 9.0;
    }
    s.y += 2.0;
    Ok(())
}

/// A row of colour keys.
fn legend(s: &mut Sheet<'_>, keys: &[(Rgb, String)]) -> Result<()> {
    s.ensure(8.0);
    let y = s.y;
    let mut x = 0.0;
    for (color, label) in keys {
        s.rect(x, y - 2.6, 3.0, 3.0, Some(*color), None)?;
        s.text(x + 4.5, y, 8.0, Weight::Regular, INK, Side::Start, label)?;
        x += 4.5 + s.measure(label, 8.0, Weight::Regular) + 6.0;
    }
    s.y = y + 7.0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_reads_in_the_direction_of_its_first_letter() {
        assert_eq!(direction_of("2025 : Saison réussie."), Some(Direction::Ltr));
        assert_eq!(direction_of("2025: موسم ناجح."), Some(Direction::Rtl));
        assert_eq!(direction_of("— 2025 —"), None);
    }
}
