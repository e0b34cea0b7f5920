//! `wafira report …` and `wafira export …`: the indicators as JSON, the PDF
//! summary, profile sheet and follow-up list, the results framework, and
//! the CSV and XLSX exports. Arguments go to the core as they are typed;
//! the core checks them.

use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::PathBuf;
use uuid::Uuid;
use wafira_core::report::{self, Format, PrintRequest};
use wafira_core::{Error, Result, Store};

/// The filters shared by the indicators and the PDFs.
#[derive(Args, Clone, Default)]
pub struct FilterArgs {
    /// First day of the period (YYYY-MM-DD), included.
    #[arg(long)]
    from: Option<String>,
    /// Last day of the period (YYYY-MM-DD), included.
    #[arg(long)]
    to: Option<String>,
    /// A region code, e.g. 04.
    #[arg(long)]
    region: Option<String>,
    #[arg(long)]
    cohort: Option<String>,
    /// F or M.
    #[arg(long)]
    sex: Option<String>,
    /// 15-24, 25-34, 35-44 or 45+ (age on the period's last day).
    #[arg(long)]
    age_group: Option<String>,
    /// yes, no or not_asked.
    #[arg(long)]
    disability: Option<String>,
}

impl FilterArgs {
    fn input(self) -> report::FiltersInput {
        report::FiltersInput {
            from: self.from,
            to: self.to,
            region: self.region,
            cohort: self.cohort,
            sex: self.sex,
            age_group: self.age_group,
            disability: self.disability,
        }
    }
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// Every indicator as JSON: the numbers of the dashboard and the PDF.
    Indicators(FilterArgs),
    /// The summary PDF for donors: the logframe, key figures against
    /// targets, charts, tables by sex, age group and disability, overdue
    /// follow-ups counted (no name).
    Pdf {
        #[arg(long)]
        out: PathBuf,
        /// fr (default), ar or en.
        #[arg(long)]
        lang: Option<String>,
        /// A UTF-8 text file whose words are printed on the first page
        /// (at most 3,000 characters).
        #[arg(long)]
        narrative_file: Option<PathBuf>,
        #[command(flatten)]
        filters: FilterArgs,
    },
    /// One person's profile sheet for her paper file.
    Profile {
        id: Uuid,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        lang: Option<String>,
    },
    /// The follow-up list for the next mission, by place.
    Followups {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        lang: Option<String>,
        /// Days without a visit (default: the laptop's setting).
        #[arg(long)]
        days: Option<i64>,
        #[command(flatten)]
        filters: FilterArgs,
        /// Only this province of the mission (its name as in the list).
        #[arg(long)]
        province: Option<String>,
        /// Only this commune.
        #[arg(long)]
        commune: Option<String>,
    },
    /// The results framework: targets per indicator.
    #[command(subcommand)]
    Targets(TargetsCmd),
}

#[derive(Subcommand)]
pub enum TargetsCmd {
    /// Every target stored (without one, 3,000 beneficiaries applies).
    List,
    /// Set a target from its options, or from a JSON object on stdin when
    /// neither --indicator nor --target is given:
    /// {"indicator": "...", "target": "...", "baseline"?: "...", "region"?: "04",
    /// "year"?: 2025, "sex"?: "F"}; options given override its fields.
    Set(TargetArgs),
}

/// A target's fields as typed; the core checks them.
#[derive(Args, Default)]
pub struct TargetArgs {
    /// One of the indicators (see docs/indicators.md).
    #[arg(long)]
    indicator: Option<String>,
    /// The target: a count, a percentage (80 = 80%) or an amount in MAD.
    #[arg(long)]
    target: Option<String>,
    #[arg(long)]
    baseline: Option<String>,
    /// A region code; without it, the whole programme.
    #[arg(long)]
    region: Option<String>,
    /// A calendar year (a period target); without it, the end of the project.
    #[arg(long)]
    year: Option<String>,
    /// F or M; without it, everyone.
    #[arg(long)]
    sex: Option<String>,
}

impl TargetArgs {
    /// The target's JSON object: stdin's unless the options name it, with
    /// the options given put over it.
    fn input(self) -> Result<Value> {
        let mut input = if self.indicator.is_none() && self.target.is_none() {
            crate::stdin_json()?
        } else {
            Value::Object(Default::default())
        };
        let Some(object) = input.as_object_mut() else {
            return Err(Error::Other("stdin is not one JSON object".into()));
        };
        for (name, value) in [
            ("indicator", self.indicator),
            ("target", self.target),
            ("baseline", self.baseline),
            ("region", self.region),
            ("year", self.year),
            ("sex", self.sex),
        ] {
            if let Some(v) = value {
                object.insert(name.into(), Value::String(v));
            }
        }
        Ok(input)
    }
}

#[derive(Subcommand)]
pub enum ExportCmd {
    /// One CSV file per table (UTF-8 with BOM) into a folder.
    Csv {
        #[arg(long)]
        out: PathBuf,
        /// No names, CIN, phone, exact birth date; stable pseudonyms.
        #[arg(long)]
        pseudonymise: bool,
        #[command(flatten)]
        filters: FilterArgs,
    },
    /// One XLSX workbook: a sheet per table, one of indicators, a codebook.
    Xlsx {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        pseudonymise: bool,
        /// The language of the label columns and codebook: fr, ar or en.
        #[arg(long)]
        lang: Option<String>,
        #[command(flatten)]
        filters: FilterArgs,
    },
}

pub fn report(store: &mut Store, cmd: ReportCmd) -> Result<Option<Value>> {
    match cmd {
        ReportCmd::Indicators(f) => crate::json(report::figures(store, &f.input().validate()?)?),
        ReportCmd::Pdf { out, lang, narrative_file, filters } => {
            let narrative = match narrative_file {
                Some(f) => {
                    Some(std::fs::read_to_string(&f).map_err(|e| Error::Other(format!("{}: {e}", f.display())))?)
                }
                None => None,
            };
            let request = PrintRequest::Summary { filters: filters.input(), lang, narrative };
            crate::json(report::print(store, &request, Some(&out))?)
        }
        ReportCmd::Profile { id, out, lang } => {
            crate::json(report::print(store, &PrintRequest::Profile { id, lang }, Some(&out))?)
        }
        ReportCmd::Followups { out, lang, days, filters, province, commune } => {
            let filters = filters.input();
            let place = wafira_core::store::Place { region: filters.region.clone(), province, commune };
            crate::json(report::print(store, &PrintRequest::Followups { filters, place, days, lang }, Some(&out))?)
        }
        ReportCmd::Targets(TargetsCmd::List) => crate::json(store.targets()?),
        ReportCmd::Targets(TargetsCmd::Set(args)) => crate::json(store.set_target_json(args.input()?)?),
    }
}

pub fn export(store: &Store, cmd: ExportCmd) -> Result<Option<Value>> {
    let (format, out, pseudonymise, lang, filters) = match cmd {
        ExportCmd::Csv { out, pseudonymise, filters } => (Format::Csv, out, pseudonymise, None, filters),
        ExportCmd::Xlsx { out, pseudonymise, lang, filters } => (Format::Xlsx, out, pseudonymise, lang, filters),
    };
    let options = report::ExportOptions { filters: filters.input(), lang };
    crate::json(report::export_with(store, format, pseudonymise, &options, Some(&out))?)
}
