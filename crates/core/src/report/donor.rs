//! The parts of the summary a manager sends to a donor (docs/reports.md):
//! the narrative typed before printing, the logframe table (level,
//! indicator, baseline, target, this period, cumulative, comment), the
//! tables by sex, age group and disability, and the charts of key
//! figures. Every number comes from [`Indicators`] (the results framework
//! included), as on the dashboard; no person is named.
//!
//! Targets have no period of their own (target.rs: one per indicator, for
//! the programme or a region): a target is the end-of-project one, and is
//! set against the cumulative column only.

use super::indicators::{Indicators, Unit};
use super::results::{BySex, Survival};
use super::sheet::{Col, Sheet, Side, ACCENT, INK, MUTED, RULE, WARN, WIDTH, ZEBRA};
use super::targets::Applied;
use super::words::Words;
use crate::error::Result;
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
    target: String,
    period: String,
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
    match s.share {
        Some(p) => format!("{} ({}/{})", w.percent(p), w.int(s.operating.all), w.int(s.eligible.all)),
        None => "—".into(),
    }
}

fn money(w: &Words, m: Option<Decimal>) -> String {
    m.map_or_else(|| "—".into(), |m| w.money(m))
}

/// A count line: its target (end of project) set against the cumulative.
#[allow(clippy::too_many_arguments)]
fn count_line(
    w: &Words,
    outcome: bool,
    key: &str,
    period: u64,
    cumulative: u64,
    target: Option<&Applied>,
    comment: String,
) -> Line {
    let mut line = Line {
        outcome,
        indicator: w.t(key),
        baseline: "—".into(),
        target: "—".into(),
        period: w.int(period),
        cumulative: w.int(cumulative),
        comment,
    };
    targeted(w, &mut line, Unit::People, Decimal::from(cumulative), target);
    line
}

/// Fills the baseline and target of a line, and says in its comment how
/// far the cumulative figure is of the end-of-project target.
fn targeted(w: &Words, line: &mut Line, unit: Unit, cumulative: Decimal, target: Option<&Applied>) {
    let Some(t) = target else { return };
    line.target = value(w, unit, t.target);
    if t.default {
        line.target = format!("{}*", line.target);
    }
    if let Some(b) = t.baseline {
        line.baseline = value(w, unit, b);
    }
    if !t.target.is_zero() {
        let progress = (cumulative * Decimal::ONE_HUNDRED / t.target)
            .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let said = w.tp("report.lf_progress", &[("progress", &w.percent(progress))]);
        line.comment = if line.comment.is_empty() { said } else { format!("{} · {said}", line.comment) };
    }
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

/// The logframe: outputs, then outcomes, for the period and cumulative to
/// the period's end.
pub fn logframe(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let r = &i.results;
    let target = |name: &str| i.key_figures.iter().find(|k| k.indicator == name).and_then(|k| k.target.as_ref());
    let women_men = |b: &BySex| w.tp("report.lf_women_men", &[("women", &w.int(b.women)), ("men", &w.int(b.men))]);
    let (pp, pc) = (&r.participation.period, &r.participation.cumulative);
    let (dp, dc) = (&r.decent_work.period, &r.decent_work.cumulative);
    let registered = registered_cumulative(i);
    let mut lines = vec![
        count_line(
            w,
            false,
            "indicator.beneficiaries_registered",
            i.beneficiaries.registered,
            registered.all,
            target("beneficiaries_registered"),
            women_men(&registered),
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
            women_men(&pc.pre_departure_oriented),
        ),
        count_line(
            w,
            false,
            "report.lf_financial_education",
            pp.financial_education_completed.all,
            pc.financial_education_completed.all,
            target("financial_education_completed"),
            women_men(&pc.financial_education_completed),
        ),
        count_line(w, false, "report.lf_igas_launched", dp.igas.all, dc.igas.all, target("iga_launched"), {
            women_men(&dc.igas)
        }),
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
        let mut line = Line {
            outcome: true,
            indicator: w.t(key),
            baseline: "—".into(),
            target: "—".into(),
            period: share(w, &s.period),
            cumulative: share(w, &s.cumulative),
            comment: w.tp(
                "report.lf_unknown",
                &[("period", &w.int(s.period.unknown.all)), ("cumulative", &w.int(s.cumulative.unknown.all))],
            ),
        };
        targeted(w, &mut line, Unit::Percent, s.cumulative.share.unwrap_or_default(), tgt);
        lines.push(line);
    }
    let (ip, ic) = (&r.income_12_months.period, &r.income_12_months.cumulative);
    let mut profit = Line {
        outcome: true,
        indicator: w.t("report.lf_profit_12"),
        baseline: "—".into(),
        target: "—".into(),
        period: money(w, ip.median_profit),
        cumulative: money(w, ic.median_profit),
        comment: w.tp("report.lf_surveyed", &[("period", &w.int(ip.surveyed)), ("cumulative", &w.int(ic.surveyed))]),
    };
    targeted(w, &mut profit, Unit::Mad, ic.median_profit.unwrap_or_default(), target("median_profit_12_months"));
    lines.push(profit);
    lines.push(Line {
        outcome: true,
        indicator: w.t("report.lf_profit_change_12"),
        baseline: "—".into(),
        target: "—".into(),
        period: money(w, ip.median_change_from_baseline),
        cumulative: money(w, ic.median_change_from_baseline),
        comment: w.t("report.lf_change_note"),
    });
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
        women_men(&dc.jobs_created),
    ));

    s.heading(&w.t("report.logframe"))?;
    s.paragraph(&w.t("report.logframe_intro"), 8.5, MUTED)?;
    let header = [
        w.t("report.lf_level"),
        w.t("field.indicator"),
        w.t("field.baseline"),
        w.t("report.lf_target"),
        w.t("report.lf_period"),
        w.t("report.lf_cumulative"),
        w.t("report.lf_comment"),
    ];
    let rows: Vec<Vec<String>> = lines
        .into_iter()
        .map(|l| {
            let level = w.t(if l.outcome { "report.lf_outcome" } else { "report.lf_output" });
            vec![level, l.indicator, l.baseline, l.target, l.period, l.cumulative, l.comment]
        })
        .collect();
    let cols =
        [Col::start(17.0), Col::start(45.0), num(w, 17.0), num(w, 17.0), num(w, 23.0), num(w, 23.0), Col::start(32.0)];
    s.table_wrapped(&cols, &header, &rows)?;
    s.paragraph(&w.t("report.logframe_note"), 8.0, MUTED)
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
        (w.t("report.lf_igas_launched"), dp.igas, dc.igas),
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
    let rows: Vec<Vec<String>> = items.iter().map(|(label, p, c)| sex_row(w, label, p, c)).collect();
    sex_table(s, &rows)
}

fn sex_row(w: &Words, label: &str, p: &BySex, c: &BySex) -> Vec<String> {
    vec![label.to_string(), w.int(p.women), w.int(p.men), w.int(p.all), w.int(c.women), w.int(c.men), w.int(c.all)]
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
        (w.t("report.lf_igas_launched"), dc.igas),
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
