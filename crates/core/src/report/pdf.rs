//! The printed reports: the summary for the manager and the donors, one
//! person's profile sheet for her paper file, and the follow-up list for the
//! next mission. Every number of the summary comes from
//! [`indicators::compute`](super::indicators::compute), as on the dashboard.

use super::indicators::{registration_date, Against, Count, Filters, Indicators, KeyFigure, Unit};
use super::sheet::{Col, Sheet, Side, ACCENT, ACCENT_LIGHT, INK, MUTED, RULE, WARN, WIDTH};
use super::words::Words;
use crate::beneficiary::Beneficiary;
use crate::error::Result;
use crate::identity::phone_national;
use crate::progress::{Progress, What};
use crate::store::{Followup, FollowupReason, Store};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;
use wafira_pdf::{Rgb, Weight};

/// A printed file and what a window or a script may want to say of it.
#[derive(Debug, Clone, Serialize)]
pub struct Printed {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub pages: usize,
    pub fingerprint: String,
}

impl Printed {
    fn new((bytes, pages): (Vec<u8>, usize), fingerprint: String) -> Printed {
        Printed { bytes, pages, fingerprint }
    }
}

/// Who printed, from which laptop, when.
fn generated_line(store: &Store, w: &Words) -> String {
    let when = w.instant(&crate::now_utc());
    match store.device() {
        Ok(d) => w.tp("report.generated", &[("when", &when), ("coordinator", &d.coordinator), ("device", &d.name)]),
        Err(_) => w.tp("report.generated_anonymous", &[("when", &when)]),
    }
}

fn footer(w: &Words, title: &str, fingerprint: &str) -> String {
    let today = w.date(Store::today());
    w.tp(
        "report.footer",
        &[("title", title), ("date", &today), ("fingerprint", fingerprint), ("version", crate::APP_VERSION)],
    )
}

/// A person's name as printed: both scripts when her Arabic name is
/// recorded, the page's own script first.
fn name_of(w: &Words, b: &Beneficiary) -> String {
    if b.is_erased() {
        return w.t("person.erased");
    }
    match &b.name_ar {
        Some(ar) if w.rtl() => format!("{ar} · {} {}", b.first_name, b.last_name),
        Some(ar) => format!("{} {} · {ar}", b.first_name, b.last_name),
        None => format!("{} {}", b.first_name, b.last_name),
    }
}

/// Left-to-right pieces (phone numbers, CIN) stay in order on an Arabic
/// page: a left-to-right mark ahead makes the `+` keep to its digits.
fn ltr(w: &Words, s: &str) -> String {
    if w.rtl() {
        format!("\u{200e}{s}")
    } else {
        s.to_string()
    }
}

fn period_text(f: &Filters, w: &Words) -> String {
    match (f.from, f.to) {
        (None, None) => w.t("report.period_all"),
        (Some(a), Some(b)) => w.tp("report.period_range", &[("from", &w.date(a)), ("to", &w.date(b))]),
        (Some(a), None) => w.tp("report.period_from", &[("from", &w.date(a))]),
        (None, Some(b)) => w.tp("report.period_to", &[("to", &w.date(b))]),
    }
}

fn filters_text(f: &Filters, w: &Words) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &f.region {
        parts.push(format!("{} : {}", w.t("field.region"), w.region(r)));
    }
    if let Some(c) = &f.cohort {
        parts.push(format!("{} : {c}", w.t("field.cohort")));
    }
    if let Some(s) = f.sex {
        parts.push(format!("{} : {}", w.t("field.sex"), w.code("sex", s.as_str())));
    }
    if let Some(g) = &f.age_group {
        parts.push(format!("{} : {}", w.t("field.age_group"), w.tp("report.age_group", &[("group", g)])));
    }
    if let Some(d) = &f.disability {
        parts.push(format!("{} : {}", w.t("field.disability"), w.t(&format!("report.disability_{d}"))));
    }
    if parts.is_empty() {
        w.t("report.no_filter")
    } else {
        parts.join(" · ")
    }
}

fn value_text(w: &Words, unit: Unit, v: Decimal) -> String {
    match unit {
        Unit::People => w.decimal(v, 0),
        Unit::Percent => w.percent(v),
        Unit::Mad => w.money(v),
    }
}

/// A column of numbers: right-aligned on every page, Arabic too, so that
/// units stay under units (their digits run left to right); on a
/// right-to-left page the right is the start side.
fn num(w: &Words, width: f32) -> Col {
    if w.rtl() {
        Col::start(width)
    } else {
        Col::end(width)
    }
}

fn fraction(n: Decimal, d: Decimal) -> f32 {
    if d.is_zero() {
        0.0
    } else {
        (n / d).to_f32().unwrap_or(0.0)
    }
}

/// The summary report for `filters`, in `lang`, without a narrative.
pub fn summary(store: &Store, filters: &Filters, lang: &str) -> Result<Printed> {
    summary_with(store, filters, lang, None)
}

/// The summary report for `filters`, in `lang`, with the manager's
/// `narrative` (checked by [`super::narrative`]) on its first page: the
/// report a manager sends to a donor (docs/reports.md).
pub fn summary_with(store: &Store, filters: &Filters, lang: &str, narrative: Option<&str>) -> Result<Printed> {
    summary_progress(store, filters, lang, narrative, &Progress::none())
}

/// A step of a PDF's layout (the page reached), and a point where it may
/// stop: nothing is written until the whole file is made.
fn laid_out(s: &Sheet<'_>, progress: &Progress, done: u64, total: u64) -> Result<()> {
    progress.step(done, total, What::Page { page: s.doc.page_count() as u64 });
    progress.check()
}

/// The PDF made in memory; the last point where it may stop, then the
/// last step (`total`): its file is written whole after.
fn made(s: Sheet<'_>, progress: &Progress, total: u64, fingerprint: String) -> Result<Printed> {
    progress.step(total - 1, total, What::Saving { pages: Some(s.doc.page_count() as u64) });
    let printed = Printed::new(s.finish()?, fingerprint);
    progress.check()?;
    progress.step(total, total, What::Writing);
    Ok(printed)
}

/// [`summary_with`], saying how far it is to `progress` (each part laid
/// out) and stopping when asked, before anything is written.
pub fn summary_progress(
    store: &Store,
    filters: &Filters,
    lang: &str,
    narrative: Option<&str>,
    progress: &Progress,
) -> Result<Printed> {
    const STEPS: u64 = 10;
    progress.step(0, STEPS, What::Data);
    let w = Words::new(lang)?;
    let i = store.indicators(filters)?;
    let days = store.followup_days()?;
    let overdue: Vec<Followup> = store
        .followups(days)?
        .into_iter()
        .flat_map(|g| g.people)
        .filter(|f| f.reason != FollowupReason::Due && filters.counts_person(&f.person.beneficiary))
        .collect();
    let title = w.t("report.summary_title");
    let mut s = Sheet::new(&title, &w, footer(&w, &title, &i.fingerprint))?;
    s.doc.set_subject(&format!("{} · {}", w.t("report.programme"), period_text(filters, &w)));
    s.doc.set_keywords(&["WAFIRA II", &i.fingerprint]);
    laid_out(&s, progress, 1, STEPS)?;
    cover(&mut s, store, &i, &title, narrative)?;
    laid_out(&s, progress, 2, STEPS)?;
    s.new_page();
    super::donor::logframe(&mut s, &i)?;
    laid_out(&s, progress, 3, STEPS)?;
    s.new_page();
    super::donor::charts(&mut s, &i)?;
    laid_out(&s, progress, 4, STEPS)?;
    s.new_page();
    super::donor::by_sex(&mut s, &i)?;
    super::donor::by_age_and_disability(&mut s, &i)?;
    laid_out(&s, progress, 5, STEPS)?;
    s.new_page();
    key_figures(&mut s, &i)?;
    laid_out(&s, progress, 6, STEPS)?;
    s.new_page();
    beneficiaries(&mut s, &i)?;
    laid_out(&s, progress, 7, STEPS)?;
    s.new_page();
    funnel(&mut s, &i)?;
    visits_chart(&mut s, &i)?;
    s.new_page();
    overdue_counts(&mut s, &overdue, days)?;
    laid_out(&s, progress, 8, STEPS)?;
    made(s, progress, STEPS, i.fingerprint)
}

fn cover(s: &mut Sheet<'_>, store: &Store, i: &Indicators, title: &str, narrative: Option<&str>) -> Result<()> {
    let w = s.words;
    s.rect(-4.0, 14.0, WIDTH + 8.0, 40.0, Some(ACCENT), None)?;
    s.text(4.0, 24.0, 10.0, Weight::Regular, Rgb(214, 234, 235), Side::Start, &w.t("report.programme"))?;
    s.text(4.0, 37.0, 22.0, Weight::Bold, Rgb::WHITE, Side::Start, title)?;
    s.text(4.0, 47.0, 10.5, Weight::Regular, Rgb::WHITE, Side::Start, &w.t("report.subtitle"))?;
    s.y = 70.0;
    let label = 58.0;
    s.fact(&w.t("report.period"), &period_text(&i.filters, w), label)?;
    s.fact(&w.t("report.filters"), &filters_text(&i.filters, w), label)?;
    s.fact(&w.t("report.generated_label"), &generated_line(store, w), label)?;
    s.fact(&w.t("report.as_of"), &w.date(i.as_of), label)?;
    s.fact(&w.t("report.fingerprint"), &i.fingerprint, label)?;
    s.y += 4.0;
    headlines(s, i)?;
    if let Some(text) = narrative.filter(|t| !t.trim().is_empty()) {
        super::donor::narrative(s, text)?;
    }

    s.heading(&w.t("report.data_status"))?;
    s.paragraph(&w.t("report.data_status_intro"), 9.0, MUTED)?;
    let d = &i.data_status;
    let header = [
        w.t("report.device"),
        w.t("report.coordinator"),
        w.t("report.last_bundle"),
        w.t("report.last_change"),
        w.t("report.changes"),
    ];
    let rows: Vec<Vec<String>> = d
        .devices
        .iter()
        .map(|dev| {
            let name =
                if dev.this_device { format!("{} {}", dev.name, w.t("report.this_device")) } else { dev.name.clone() };
            vec![
                name,
                dev.coordinator.clone(),
                dev.last_bundle_at.as_deref().map_or_else(|| "—".to_string(), |t| w.instant(t)),
                dev.last_change_at.as_deref().map_or_else(|| "—".to_string(), |t| w.instant(t)),
                w.int(dev.changes),
            ]
        })
        .collect();
    let cols = [Col::start(46.0), Col::start(34.0), Col::start(35.0), Col::start(35.0), num(w, 24.0)];
    s.table(&cols, &header, &rows, false)?;
    let records = w.tp(
        "report.records",
        &[
            ("beneficiaries", &w.tn("count.beneficiaries", d.records.beneficiaries, &[])),
            ("visits", &w.tn("count.visits", d.records.visits, &[])),
            ("milestones", &w.tn("count.milestones", d.records.milestones, &[])),
            ("targets", &w.tn("count.targets", d.records.targets, &[])),
        ],
    );
    let open = |n: Option<u64>| n.map_or_else(|| w.t("report.not_available"), |n| w.int(n));
    s.fact(&w.t("report.records_label"), &records, label)?;
    s.fact(&w.t("report.open_conflicts"), &open(d.open_conflicts), label)?;
    s.fact(&w.t("report.open_duplicates"), &open(d.open_duplicates), label)?;
    Ok(())
}

/// Four tiles of the cover: the figures a reader looks for first, since
/// the start, against the end-of-project target.
fn headlines(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let figure = |name: &str| i.key_figures.iter().find(|k| k.indicator == name);
    let mut tiles = Vec::new();
    for name in ["beneficiaries_registered", "women_registered", "iga_launched", "financing_obtained_total"] {
        if let Some(k) = figure(name) {
            let c = &k.cumulative.all;
            let mut value = c.value.map_or_else(|| "—".into(), |v| value_text(w, k.unit, v));
            if let Some(t) = &c.target {
                value = format!("{value} / {}", value_text(w, k.unit, t.target));
            }
            let mut label = w.t(&format!("indicator.{name}"));
            if i.filters.from.is_some() {
                label = format!("{label} ({})", w.t("dash.results.cumulative"));
            }
            tiles.push((value, label));
        }
    }
    let gap = 4.0;
    let tile_w = (WIDTH - gap * 3.0) / 4.0;
    s.ensure(30.0);
    let y = s.y;
    for (n, (value, label)) in tiles.iter().enumerate() {
        let x = n as f32 * (tile_w + gap);
        s.rect(x, y, tile_w, 25.0, Some(ACCENT_LIGHT), None)?;
        let size = if s.measure(value, 14.0, Weight::Bold) > tile_w - 5.0 { 10.5 } else { 14.0 };
        let value = s.fit(value, size, Weight::Bold, tile_w - 5.0);
        s.text(x + 2.5, y + 9.0, size, Weight::Bold, ACCENT, Side::Start, &value)?;
        for (l, line) in s.doc.wrap(label, 8.0, Weight::Regular, tile_w - 5.0).iter().take(2).enumerate() {
            s.text(x + 2.5, y + 15.5 + 4.0 * l as f32, 8.0, Weight::Regular, INK, Side::Start, line)?;
        }
    }
    s.y = y + 33.0;
    Ok(())
}

fn key_figures(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    s.heading(&w.t("report.key_figures"))?;
    s.paragraph(&w.t("report.key_figures_intro"), 8.5, MUTED)?;
    for k in &i.key_figures {
        key_figure(s, k, i.period_year)?;
    }
    s.y += 2.0;
    s.heading(&w.t("report.other_figures"))?;
    let label = 92.0;
    let c = &i.coaching;
    let of = |n: u64, d: u64, share: Option<Decimal>| {
        let share = share.map_or_else(|| "—".to_string(), |p| w.percent(p));
        w.tp("report.n_of_m", &[("n", &w.int(n)), ("m", &w.int(d)), ("share", &share)])
    };
    s.fact(&w.t("report.visits_total"), &w.int(c.visits), label)?;
    s.fact(&w.t("report.with_visit"), &of(c.with_visit, c.people, c.share_with_visit), label)?;
    s.fact(
        &w.t("report.with_financial_education"),
        &of(c.with_financial_education, c.people, c.share_financial_education),
        label,
    )?;
    s.fact(&w.t("report.mean_visits"), &c.mean_visits_per_person.map_or("—".into(), |m| w.decimal(m, 2)), label)?;
    let l = &i.iga.sustained_of_launched;
    s.fact(&w.t("report.sustained_of_launched"), &of(l.sustained, l.launched, l.share), label)?;
    s.fact(&w.t("report.stopped"), &w.int(i.iga.stopped), label)?;
    let delay = match i.iga.median_days_to_launch {
        Some(d) => w.tp(
            "report.days_over",
            &[
                ("days", &w.tn_decimal("count.days", d, 1, &[])),
                ("n", &w.tn("count.launches", i.iga.launches_timed, &[])),
            ],
        ),
        None => "—".into(),
    };
    s.fact(&w.t("report.median_days_to_launch"), &delay, label)?;
    let f = &i.financing;
    s.fact(&w.t("report.financing_total"), &w.money(f.total.0), label)?;
    s.fact(&w.t("report.financing_median"), &f.median.map_or("—".into(), |m| w.money(m)), label)?;
    s.fact(&w.t("report.financing_people"), &w.int(f.people), label)?;
    s.fact(&w.t("report.no_visit_60"), &w.int(i.followup.no_visit_60_days), label)?;
    s.fact(&w.t("report.no_visit_90"), &w.int(i.followup.no_visit_90_days), label)?;
    Ok(())
}

/// One indicator: its name, then its figure for the period and since the
/// start, each with a bar of its progress to its own target (the period's
/// year's, the end of the project's), and women's and men's figures where a
/// target is set for them.
fn key_figure(s: &mut Sheet<'_>, k: &KeyFigure, year: Option<i32>) -> Result<()> {
    let w = s.words;
    s.ensure(24.0);
    let y = s.y;
    s.text(0.0, y, 10.0, Weight::Bold, INK, Side::Start, &w.t(&format!("indicator.{}", k.indicator)))?;
    let shown = |v: Option<Decimal>| v.map_or_else(|| "—".to_string(), |v| value_text(w, k.unit, v));
    // What a figure is of its target, or why it has none.
    let note = |a: &Against, period: bool| -> String {
        let Some(t) = &a.target else {
            return match (period, year) {
                (false, _) => w.t("report.no_target"),
                (true, None) => w.t("report.no_period_target"),
                (true, Some(y)) => w.tp("report.no_target_for_year", &[("year", &y.to_string())]),
            };
        };
        let progress = a.progress.map_or("—".into(), |p| w.percent(p));
        let target = value_text(w, k.unit, t.target);
        let mut note = match t.year {
            Some(y) => {
                w.tp("report.of_year_target", &[("progress", &progress), ("target", &target), ("year", &y.to_string())])
            }
            None => w.tp("report.of_target", &[("progress", &progress), ("target", &target)]),
        };
        if t.default {
            note = format!("{note} ({})", w.t("report.default_target"));
        }
        if let Some(b) = t.baseline {
            note = format!("{note} · {} {}", w.t("report.baseline"), value_text(w, k.unit, b));
        }
        note
    };
    let (label_w, value_end, bar_x, bar_w) = (24.0, 58.0, 62.0, 50.0);
    let mut line = y + 5.5;
    for (span, m, period) in
        [("dash.results.period", &k.period, true), ("dash.results.cumulative", &k.cumulative, false)]
    {
        s.text(0.0, line, 8.5, Weight::Regular, MUTED, Side::Start, &w.t(span))?;
        s.text(value_end, line, 10.0, Weight::Bold, INK, Side::End, &shown(m.all.value))?;
        if let Some(t) = &m.all.target {
            let color = if m.all.progress.is_some_and(|p| p >= Decimal::ONE_HUNDRED) { ACCENT } else { WARN };
            s.bar(bar_x, line - 2.8, bar_w, 3.2, fraction(m.all.value.unwrap_or_default(), t.target), color)?;
        }
        let text = s.fit(&note(&m.all, period), 8.0, Weight::Regular, WIDTH - bar_x - bar_w - 3.0);
        s.text(bar_x + bar_w + 3.0, line, 8.0, Weight::Regular, MUTED, Side::Start, &text)?;
        line += 5.0;
        // Women and men, where a target is set for either.
        let sexes = [("report.women", &m.women), ("report.men", &m.men)];
        if sexes.iter().any(|(_, a)| a.as_ref().is_some_and(|a| a.target.is_some())) {
            let parts: Vec<String> = sexes
                .iter()
                .filter_map(|(key, a)| a.as_ref().map(|a| (key, a)))
                .map(|(key, a)| format!("{} {} — {}", w.t(key), shown(a.value), note(a, period)))
                .collect();
            let text = s.fit(&parts.join(" · "), 8.0, Weight::Regular, WIDTH - label_w);
            s.text(label_w, line, 8.0, Weight::Regular, MUTED, Side::Start, &text)?;
            line += 5.0;
        }
    }
    s.hline(0.0, WIDTH, line - 2.0, 0.2, RULE)?;
    s.y = line + 4.0;
    Ok(())
}

/// A breakdown of the people counted: one table of label, women, men,
/// number, share.
struct Breakdown {
    title: String,
    rows: Vec<Vec<String>>,
}

fn breakdown(w: &Words, title: &str, rows: Vec<(String, &Count)>) -> Breakdown {
    let rows = rows
        .into_iter()
        .map(|(label, c)| {
            vec![label, w.int(c.women), w.int(c.men), w.int(c.count), c.share.map_or("—".into(), |p| w.percent(p))]
        })
        .collect();
    Breakdown { title: title.to_string(), rows }
}

/// Where a code goes in a list people read: phases in the order of the
/// migration cycle, "other" after the codes, "not recorded" last; the
/// rest by label.
fn reading_order(list: &str, code: Option<&str>, label: &str) -> (u8, usize, String) {
    const CYCLE: [&str; 3] = ["pre_departure", "in_migration", "returned"];
    match code {
        None => (3, 0, String::new()),
        Some("other") => (2, 0, String::new()),
        Some(c) if list == "phase" => (1, CYCLE.iter().position(|p| *p == c).unwrap_or(CYCLE.len()), String::new()),
        Some(_) if list == "cohort" || list == "age" => (1, 0, code.unwrap_or("").to_string()),
        Some(_) => (1, 0, crate::text::fold(label)),
    }
}

/// The rows of a breakdown, labelled and sorted the way people read.
fn sorted<'a>(list: &str, counts: &'a [Count], label: &dyn Fn(&Option<String>) -> String) -> Vec<(String, &'a Count)> {
    let mut rows: Vec<(String, &Count)> = counts.iter().map(|c| (label(&c.code), c)).collect();
    rows.sort_by_cached_key(|(l, c)| reading_order(list, c.code.as_deref(), l));
    rows
}

/// Breakdowns one under the other, full width, so that every label fits.
fn breakdowns(s: &mut Sheet<'_>, tables: Vec<Breakdown>) -> Result<()> {
    let w = s.words;
    let header =
        [w.t("report.label"), w.t("report.women"), w.t("report.men"), w.t("report.total"), w.t("report.share")];
    let cols = [Col::start(74.0), num(w, 25.0), num(w, 25.0), num(w, 25.0), num(w, 25.0)];
    for b in &tables {
        s.ensure(17.0 + 5.4 * b.rows.len().clamp(1, 6) as f32);
        s.subheading(&b.title)?;
        if b.rows.is_empty() {
            s.paragraph(&w.t("report.no_data"), 9.0, MUTED)?;
        } else {
            s.table(&cols, &header, &b.rows, false)?;
        }
    }
    Ok(())
}

fn beneficiaries(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let b = &i.beneficiaries;
    s.heading(&w.t("report.beneficiaries"))?;
    s.paragraph(&w.tn("report.registered_intro", b.registered, &[("period", &period_text(&i.filters, w))]), 9.5, INK)?;
    s.subheading(&w.t("report.by_region_sex"))?;
    let header =
        [w.t("field.region"), w.t("report.women"), w.t("report.men"), w.t("report.total"), w.t("report.target")];
    let mut rows: Vec<Vec<String>> = b
        .by_region
        .iter()
        .map(|r| {
            vec![
                w.region(&r.region),
                w.int(r.women),
                w.int(r.men),
                w.int(r.total),
                r.target.map_or("—".into(), |t| w.decimal(t, 0)),
            ]
        })
        .collect();
    rows.push(vec![w.t("report.total"), w.int(b.women), w.int(b.men), w.int(b.registered), String::new()]);
    let cols = [Col::start(74.0), num(w, 25.0), num(w, 25.0), num(w, 25.0), num(w, 25.0)];
    s.table(&cols, &header, &rows, true)?;

    let none = w.t("report.not_recorded");
    let country = |c: &Option<String>| c.as_deref().map_or(none.clone(), |x| w.country(x));
    let phase = |c: &Option<String>| c.as_deref().map_or(none.clone(), |x| w.code("phase", x));
    let sector = |c: &Option<String>| c.as_deref().map_or(none.clone(), |x| w.code("sector", x));
    let cohort = |c: &Option<String>| c.as_deref().map_or(none.clone(), |x| ltr(w, x));
    let age = |c: &Option<String>| c.as_deref().map_or(none.clone(), |x| w.tp("report.age_group", &[("group", x)]));
    let countries = sorted("country", &b.by_country, &country);
    let phases = sorted("phase", &b.by_phase, &phase);
    let sectors = sorted("sector", &b.by_sector, &sector);
    let cohorts = sorted("cohort", &b.by_cohort, &cohort);
    let ages = sorted("age", &b.by_age, &age);
    let tables = vec![
        breakdown(w, &w.t("report.by_country"), countries),
        breakdown(w, &w.t("report.by_phase"), phases),
        breakdown(w, &w.t("report.by_sector"), sectors),
        breakdown(w, &w.t("report.by_cohort"), cohorts),
        breakdown(w, &w.t("report.by_age"), ages),
    ];
    s.y += 2.0;
    breakdowns(s, tables)
}

/// The IGA funnel as horizontal bars, one per stage.
fn funnel(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    s.heading(&w.t("report.iga_funnel"))?;
    s.paragraph(&w.t("report.iga_funnel_intro"), 9.0, MUTED)?;
    let max = i.iga.funnel.iter().map(|st| st.people).max().unwrap_or(0);
    let (label_w, bar_w) = (62.0, 92.0);
    for st in &i.iga.funnel {
        s.ensure(8.0);
        let y = s.y;
        let name = s.fit(&w.code("milestone", st.kind.as_str()), 9.0, Weight::Regular, label_w - 3.0);
        s.text(0.0, y, 9.0, Weight::Regular, INK, Side::Start, &name)?;
        let f = if max == 0 { 0.0 } else { st.people as f32 / max as f32 };
        let color = if st.kind == crate::codes::MilestoneKind::IgaStopped { WARN } else { ACCENT };
        s.rect(label_w, y - 3.6, bar_w, 4.8, Some(Rgb(246, 248, 249)), None)?;
        if f > 0.0 {
            s.rect(label_w, y - 3.6, bar_w * f, 4.8, Some(color), None)?;
        }
        s.text(label_w + bar_w * f + 2.0, y, 9.0, Weight::Bold, INK, Side::Start, &w.int(st.people))?;
        s.y += 7.2;
    }
    s.y += 4.0;
    Ok(())
}

/// The smallest of 1, 2, 5 × 10ⁿ at least `v`.
fn nice_ceiling(v: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= v {
                return (m * step).max(1);
            }
        }
        step *= 10;
    }
}

/// Visits per month as vertical bars over a labelled axis.
fn visits_chart(s: &mut Sheet<'_>, i: &Indicators) -> Result<()> {
    let w = s.words;
    let months = &i.coaching.visits_per_month;
    s.ensure(95.0);
    s.heading(&w.t("report.visits_per_month"))?;
    if months.is_empty() {
        return s.paragraph(&w.t("report.no_data"), 9.0, MUTED);
    }
    let top = s.y + 2.0;
    let (axis_x, height) = (14.0, 58.0);
    let base = top + height;
    let plot_w = WIDTH - axis_x;
    let max = nice_ceiling(months.iter().map(|m| m.visits).max().unwrap_or(0));
    for step in 0..=4u64 {
        let v = max * step / 4;
        let y = base - height * step as f32 / 4.0;
        s.hline(axis_x, WIDTH, y, if step == 0 { 0.7 } else { 0.2 }, if step == 0 { INK } else { RULE })?;
        s.text(axis_x - 2.0, y + 1.2, 7.0, Weight::Regular, MUTED, Side::End, &w.int(v))?;
    }
    let slot = plot_w / months.len() as f32;
    let label_every = (11.0 / slot).ceil().max(1.0) as usize;
    for (n, m) in months.iter().enumerate() {
        let x = axis_x + slot * n as f32;
        let h = height * m.visits as f32 / max as f32;
        if h > 0.0 {
            s.rect(x + slot * 0.15, base - h, slot * 0.7, h, Some(ACCENT), None)?;
        }
        if slot >= 7.0 && m.visits > 0 {
            s.text(x + slot / 2.0, base - h - 1.2, 6.5, Weight::Regular, INK, Side::Center, &w.int(m.visits))?;
        }
        if n % label_every == 0 {
            let label = format!("{}/{}", m.month.get(5..7).unwrap_or(""), m.month.get(2..4).unwrap_or(""));
            s.text(x + slot / 2.0, base + 4.0, 6.5, Weight::Regular, MUTED, Side::Center, &label)?;
        }
    }
    s.y = base + 10.0;
    s.paragraph(&w.tn("report.visits_chart_note", i.coaching.visits, &[]), 8.5, MUTED)?;
    Ok(())
}

/// A number of days as a count (never negative: the core refuses it).
fn day_count(days: i64) -> u64 {
    u64::try_from(days).unwrap_or(0)
}

/// Why a person is on a list, short enough for a table cell (the days
/// without a visit have their own column).
fn reason_text(w: &Words, f: &Followup) -> String {
    match (f.reason, f.person.next_visit_date) {
        (FollowupReason::Overdue | FollowupReason::Due, Some(d)) => {
            w.tp("report.reason_planned", &[("date", &w.date(d))])
        }
        _ if f.person.last_visit_date.is_none() => w.t("report.reason_never_visited"),
        _ => w.t("report.reason_no_recent_visit"),
    }
}

/// Commune and province (in the page's language), once when they bear
/// the same name.
fn place(w: &Words, b: &Beneficiary) -> String {
    match (b.commune.as_deref(), b.province.as_deref()) {
        (Some(c), Some(p)) if c != p => format!("{c}, {}", w.province(p)),
        (Some(c), _) => c.to_string(),
        (None, Some(p)) => w.province(p),
        (None, None) => String::new(),
    }
}

/// How many follow-ups are late, per region and reason: the summary goes
/// to donors, so it names nobody (the named list is the follow-up PDF).
fn overdue_counts(s: &mut Sheet<'_>, people: &[Followup], days: i64) -> Result<()> {
    let w = s.words;
    s.heading(&w.tp("report.overdue", &[("n", &w.int(people.len() as u64))]))?;
    s.paragraph(&w.tn("report.overdue_counts_intro", day_count(days), &[]), 9.0, MUTED)?;
    if people.is_empty() {
        return s.paragraph(&w.t("report.overdue_none"), 9.5, INK);
    }
    // region → (visit planned and passed, never visited, no recent visit)
    let mut by_region: std::collections::BTreeMap<&str, [u64; 3]> = std::collections::BTreeMap::new();
    for f in people {
        let b = &f.person.beneficiary;
        let slot = match (f.reason, f.person.next_visit_date) {
            (FollowupReason::Overdue | FollowupReason::Due, Some(_)) => 0,
            _ if f.person.last_visit_date.is_none() => 1,
            _ => 2,
        };
        by_region.entry(b.region.as_str()).or_default()[slot] += 1;
    }
    let header = [
        w.t("field.region"),
        w.t("report.reason_planned_passed"),
        w.t("report.reason_never_visited"),
        w.t("report.reason_no_recent_visit"),
        w.t("report.total"),
    ];
    let mut totals = [0u64; 3];
    let mut rows: Vec<Vec<String>> = by_region
        .iter()
        .map(|(region, n)| {
            for (t, v) in totals.iter_mut().zip(n) {
                *t += v;
            }
            let mut row = vec![w.region(region)];
            row.extend(n.iter().map(|v| w.int(*v)));
            row.push(w.int(n.iter().sum()));
            row
        })
        .collect();
    let mut total = vec![w.t("report.total")];
    total.extend(totals.iter().map(|v| w.int(*v)));
    total.push(w.int(totals.iter().sum()));
    rows.push(total);
    let cols = [Col::start(62.0), num(w, 30.0), num(w, 30.0), num(w, 30.0), num(w, 22.0)];
    s.table(&cols, &header, &rows, false)
}

/// One person's sheet for her paper file: identity, IGA milestones and the
/// timeline of visits.
pub fn profile(store: &Store, id: Uuid, lang: &str) -> Result<Printed> {
    let w = Words::new(lang)?;
    let p = store.profile(id)?;
    let b = &p.beneficiary;
    let fingerprint = {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_string(&(&p.beneficiary, &p.visits, &p.milestones))?;
        Sha256::digest(json.as_bytes()).iter().take(4).map(|x| format!("{x:02x}")).collect::<String>()
    };
    let title = w.t("report.profile_title");
    let mut s = Sheet::new(&title, &w, footer(&w, &title, &fingerprint))?;
    s.rect(-4.0, 14.0, WIDTH + 8.0, 26.0, Some(ACCENT_LIGHT), None)?;
    s.text(2.0, 22.0, 9.5, Weight::Regular, ACCENT, Side::Start, &title)?;
    let heading = if b.is_erased() { w.t("person.erased") } else { format!("{} {}", b.first_name, b.last_name) };
    s.text(2.0, 31.0, 17.0, Weight::Bold, INK, Side::Start, &heading)?;
    if let Some(ar) = &b.name_ar {
        s.text(WIDTH - 2.0, 31.0, 17.0, Weight::Bold, INK, Side::End, ar)?;
    }
    s.text(2.0, 37.0, 8.5, Weight::Regular, MUTED, Side::Start, &generated_line(store, &w))?;
    s.y = 50.0;

    s.heading(&w.t("profile.identity"))?;
    let label = 58.0;
    let dash = || "—".to_string();
    let facts: Vec<(String, String)> = vec![
        (w.t("field.sex"), w.code("sex", b.sex.as_str())),
        (
            w.t("field.birth_date"),
            // Erased: the year alone is kept.
            if p.erased {
                b.birth_date.format("%Y").to_string()
            } else if let Some(year) = b.approx_birth_year() {
                format!(
                    "{} ({})",
                    w.tp("birth.approx", &[("year", &year.to_string())]),
                    w.tn("profile.age", u64::try_from(p.age).unwrap_or(0), &[])
                )
            } else {
                format!("{} ({})", w.date(b.birth_date), w.tn("profile.age", u64::try_from(p.age).unwrap_or(0), &[]))
            },
        ),
        (w.t("field.cin"), b.cin.as_deref().map_or_else(dash, |c| ltr(&w, c))),
        (w.t("field.phone"), b.phone.as_deref().map_or_else(dash, |c| ltr(&w, &phone_national(c)))),
        (w.t("field.region"), w.region(&b.region)),
        (w.t("report.place"), [place(&w, b), b.douar.clone().unwrap_or_default()].join(" ").trim().to_string()),
        (w.t("field.destination_country"), b.destination_country.as_deref().map_or_else(dash, |c| w.country(c))),
        (w.t("field.seasons_abroad"), b.seasons_abroad.map_or_else(dash, |n| n.to_string())),
        (w.t("field.phase"), w.code("phase", b.phase.as_str())),
        (w.t("field.iga_sector"), b.iga_sector.map_or_else(dash, |x| w.code("sector", x.as_str()))),
        (w.t("field.cohort"), b.cohort.as_deref().map_or_else(dash, |c| ltr(&w, c))),
        (w.t("field.consent_date"), w.date(registration_date(b))),
        (w.t("report.stage"), p.stage.map_or_else(|| w.t("stage.none"), |k| w.code("milestone", k.as_str()))),
        (w.t("report.last_visit"), p.last_visit_date.map_or_else(dash, |d| w.date(d))),
        (w.t("field.next_visit_date"), p.next_visit_date.map_or_else(dash, |d| w.date(d))),
    ];
    for (k, v) in facts {
        s.fact(&k, if v.is_empty() { "—" } else { &v }, label)?;
    }
    if let Some(notes) = &b.notes {
        s.fact(&w.t("field.notes"), notes, label)?;
    }

    s.heading(&w.t("profile.iga"))?;
    if p.milestones.is_empty() {
        s.paragraph(&w.t("stage.none"), 9.5, MUTED)?;
    } else {
        let header = [w.t("field.date"), w.t("profile.milestone"), w.t("field.amount"), w.t("field.reason")];
        let rows: Vec<Vec<String>> = p
            .milestones
            .iter()
            .map(|m| {
                vec![
                    w.date(m.date),
                    w.code("milestone", m.kind.as_str()),
                    m.amount.map_or(String::new(), |a| w.money(a.0)),
                    m.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        s.table(&[Col::start(24.0), Col::start(58.0), num(&w, 36.0), Col::start(56.0)], &header, &rows, false)?;
    }

    s.heading(&w.t("report.visits"))?;
    if p.visits.is_empty() {
        s.paragraph(&w.t("profile.timeline_empty"), 9.5, MUTED)?;
    }
    let mut visits = p.visits.clone();
    visits.sort_by_key(|v| v.date);
    for v in &visits {
        s.ensure(14.0);
        let mut head = format!("{} · {}", w.date(v.date), w.code("visit", v.kind.as_str()));
        if let Some(m) = v.duration_minutes {
            head = format!("{head} · {}", w.tn("profile.minutes", u64::from(m), &[]));
        }
        head = format!("{head} · {}", v.coordinator);
        s.text(0.0, s.y, 9.5, Weight::Bold, INK, Side::Start, &head)?;
        s.y += 4.8;
        let mut details = Vec::new();
        if !v.topics.is_empty() {
            details.push(format!("{} {}", w.t("profile.topics"), v.topics.join(", ")));
        }
        for text in [&v.notes, &v.next_steps].into_iter().flatten() {
            details.push(text.clone());
        }
        if let Some(d) = v.next_visit_date {
            details.push(format!("{} : {}", w.t("field.next_visit_date"), w.date(d)));
        }
        for d in details {
            s.paragraph(&d, 8.8, INK)?;
        }
        s.hline(0.0, WIDTH, s.y - 2.5, 0.2, RULE)?;
        s.y += 2.0;
    }
    Ok(Printed::new(s.finish()?, fingerprint))
}

/// The people to see on the next mission, by region, province and commune,
/// with a box to tick on paper.
pub fn followup_list(
    store: &Store,
    filters: &Filters,
    place: &crate::store::Place,
    days: i64,
    lang: &str,
) -> Result<Printed> {
    followup_list_progress(store, filters, place, days, lang, &Progress::none())
}

/// [`followup_list`], saying how far it is to `progress` (after each
/// place, the people laid out) and stopping when asked, before anything
/// is written.
pub fn followup_list_progress(
    store: &Store,
    filters: &Filters,
    place: &crate::store::Place,
    days: i64,
    lang: &str,
    progress: &Progress,
) -> Result<Printed> {
    progress.step(0, 1, What::Data);
    let w = Words::new(lang)?;
    let groups: Vec<_> = store
        .followups_at(days, place)?
        .into_iter()
        .map(|mut g| {
            g.people.retain(|f| filters.counts_person(&f.person.beneficiary));
            g
        })
        .filter(|g| !g.people.is_empty())
        .collect();
    let count: usize = groups.iter().map(|g| g.people.len()).sum();
    // Steps: the data read, each person laid out, the file made.
    let steps = count as u64 + 2;
    let fingerprint = {
        use sha2::{Digest, Sha256};
        let ids: Vec<String> =
            groups.iter().flat_map(|g| g.people.iter().map(|f| f.person.beneficiary.id.to_string())).collect();
        let json = serde_json::to_string(&(ids, days, Store::today()))?;
        Sha256::digest(json.as_bytes()).iter().take(4).map(|x| format!("{x:02x}")).collect::<String>()
    };
    let title = w.t("followups.title");
    let mut s = Sheet::new(&title, &w, footer(&w, &title, &fingerprint))?;
    s.text(0.0, 24.0, 16.0, Weight::Bold, ACCENT, Side::Start, &title)?;
    s.y = 32.0;
    s.paragraph(&generated_line(store, &w), 8.5, MUTED)?;
    s.paragraph(
        &w.tp(
            "followups.summary",
            &[
                ("people", &w.tn("count.people", count as u64, &[])),
                ("places", &w.tn("count.places", groups.len() as u64, &[])),
                ("days", &w.tn("count.days", day_count(days), &[])),
                ("date", &w.date(Store::today())),
            ],
        ),
        9.5,
        INK,
    )?;
    if !filters.is_empty() {
        s.paragraph(&format!("{} : {}", w.t("report.filters"), filters_text(filters, &w)), 9.0, MUTED)?;
    }
    if groups.is_empty() {
        s.paragraph(&w.tn("followups.empty", day_count(days), &[]), 10.0, INK)?;
        return made(s, progress, steps, fingerprint);
    }
    laid_out(&s, progress, 1, steps)?;
    let mut done = 1;
    let header = [
        w.t("report.seen"),
        w.t("report.name"),
        w.t("field.phone"),
        w.t("report.last_visit"),
        w.t("report.stage"),
        w.t("report.reason"),
    ];
    for g in &groups {
        let commune = g.commune.clone().unwrap_or_else(|| w.t("followups.no_commune"));
        // A commune named as its province (the chief town) is said once.
        let same = g.province.as_ref() == Some(&commune);
        let province = g.province.as_deref().map_or_else(|| w.t("followups.no_province"), |p| w.province(p));
        let mut parts = vec![w.region(&g.region), province];
        if !same {
            parts.push(commune);
        }
        let place = parts.join(" › ");
        s.subheading(&format!("{place} ({})", w.int(g.people.len() as u64)))?;
        let rows: Vec<Vec<String>> = g
            .people
            .iter()
            .map(|f| {
                let b = &f.person.beneficiary;
                vec![
                    String::new(),
                    name_of(&w, b),
                    b.phone.as_deref().map_or(String::new(), |p| ltr(&w, &phone_national(p))),
                    f.person.last_visit_date.map_or("—".into(), |d| w.date(d)),
                    f.person.stage.map_or_else(String::new, |k| w.code("milestone", k.as_str())),
                    reason_text(&w, f),
                ]
            })
            .collect();
        let cols =
            [Col::tick(9.0), Col::start(48.0), Col::start(28.0), Col::start(22.0), Col::start(30.0), Col::start(37.0)];
        s.table(&cols, &header, &rows, false)?;
        done += g.people.len() as u64;
        laid_out(&s, progress, done, steps)?;
    }
    made(s, progress, steps, fingerprint)
}
