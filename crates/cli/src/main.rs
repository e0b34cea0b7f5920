//! `wafira`: the core on the command line, JSON in and out, for the
//! assistant's batch work, scripts and tests. Exit status 0 on success;
//! otherwise 1 and one line on stderr that names the problem.

mod audit;
mod programme;
mod report;
mod sync;
mod unlock;

use clap::{Parser, Subcommand};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use uuid::Uuid;
use wafira_core::access::Role;
use wafira_core::codes::{Phase, Sex};
use wafira_core::store::log::Entity;
use wafira_core::store::{ListQuery, Sort};
use wafira_core::{demo, paths, Error, Result, Store};

#[derive(Parser)]
#[command(name = "wafira", version, about = "Wafira Field on the command line")]
struct Cli {
    /// The database file (default: $WAFIRA_DB, then the per-OS data folder).
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// Work in the practice database that goes with it (made-up people,
    /// never sent to a real station), opened with the same passphrase.
    #[arg(long, global = true)]
    practice: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the encrypted database, its first account (a manager) and
    /// its device identity; prints the recovery key, once.
    Init {
        #[arg(long)]
        device: String,
        #[arg(long)]
        coordinator: String,
        /// The first account's name (default: the coordinator's).
        #[arg(long)]
        user: Option<String>,
    },
    /// The accounts that open this database: add, list, remove; change
    /// one's own passphrase.
    #[command(subcommand)]
    User(UserCmd),
    /// Where the database is, its schema version and device.
    Info,
    /// Register, edit, archive, show and list people.
    #[command(subcommand)]
    Beneficiary(BeneficiaryCmd),
    /// Log coaching visits.
    #[command(subcommand)]
    Visit(RecordCmd),
    /// Record IGA milestones (`iga_id` names the IGA; the person's only
    /// one, or her first made now, when left out).
    #[command(subcommand)]
    Milestone(RecordCmd),
    /// Income-generating activities: several per person, individual or
    /// collective (`members`), with legal status, investment and jobs.
    #[command(subcommand)]
    Iga(programme::KindCmd),
    /// Follow-up surveys of an IGA: operating or not, monthly turnover and
    /// profit, sales channels.
    #[command(subcommand)]
    Followup(programme::KindCmd),
    /// Migration seasons: year, country, employer, departure and return.
    #[command(subcommand)]
    Season(programme::KindCmd),
    /// Referrals to partners, with their outcome.
    #[command(subcommand)]
    Referral(programme::KindCmd),
    /// The partners a referral or a session may name (managers add them).
    #[command(subcommand)]
    Partner(programme::KindCmd),
    /// Group sessions (pre-departure orientation, financial education…)
    /// and their attendance.
    #[command(subcommand)]
    Session(programme::SessionCmd),
    /// The people to see on the next mission, grouped by place.
    Followups {
        /// Days without a visit that put a person on the plan.
        #[arg(long)]
        days: Option<i64>,
        /// Only the people of this region (its code), province or commune.
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        province: Option<String>,
        #[arg(long)]
        commune: Option<String>,
    },
    /// Sync bundles: export for the station, import at the station.
    #[command(subcommand)]
    Bundle(sync::BundleCmd),
    /// Conflicts between laptops: list and settle them.
    #[command(subcommand)]
    Conflicts(sync::ConflictsCmd),
    /// Possible duplicate persons: list, merge, undo, dismiss.
    #[command(subcommand)]
    Duplicates(sync::DuplicatesCmd),
    /// Sync status: every laptop, its last bundle and what is missing;
    /// `devices approve ID` approves a new laptop.
    Devices {
        #[command(subcommand)]
        cmd: Option<sync::DevicesCmd>,
    },
    /// This computer's keys and the computers it sends bundles to.
    #[command(subcommand)]
    Keys(sync::KeysCmd),
    /// Copies of the database kept before imports: list and restore.
    #[command(subcommand)]
    Backup(sync::BackupCmd),
    /// Indicators (JSON), PDF summary, profile sheet, follow-up list, targets.
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// The live records as CSV files or an XLSX workbook.
    #[command(subcommand)]
    Export(report::ExportCmd),
    /// The audit trail: who did what, when, on which machine; verify its
    /// chains, export it.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Add realistic synthetic people, visits and milestones.
    Demo {
        #[arg(long)]
        beneficiaries: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum BeneficiaryCmd {
    /// Register a person from one JSON object on stdin; prints the record.
    Add,
    /// Change the fields given as a JSON object on stdin.
    Update { id: Uuid },
    /// The person with her visits, milestones, stage and history.
    Show { id: Uuid },
    /// Archive a registration made by mistake (kept, never erased).
    Archive {
        id: Uuid,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Put an archived person back on the lists (refused while another
    /// live person holds her CIN).
    Restore { id: Uuid },
    /// Consent withdrawn: erase her identifying data here, in the history
    /// and the backups, and on every machine through the next bundles.
    /// Final. The reason is kept and travels: it must name nobody. Prints
    /// what was erased, in counts.
    Erase {
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// A JSON array of people.
    List {
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        province: Option<String>,
        #[arg(long, value_parser = parse_phase)]
        phase: Option<Phase>,
        #[arg(long)]
        stage: Option<String>,
        #[arg(long, value_parser = parse_sex)]
        sex: Option<Sex>,
        #[arg(long)]
        cohort: Option<String>,
        /// Include archived records.
        #[arg(long)]
        archived: bool,
        #[arg(long, value_enum, default_value = "name")]
        sort: SortArg,
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add an account (its passphrase from WAFIRA_NEW_PASSPHRASE, or
    /// asked); an existing name gets the new passphrase and role.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// The accounts, with their roles (no secret).
    List,
    /// Remove an account (never the last manager).
    Remove {
        #[arg(long)]
        name: String,
    },
    /// Change the passphrase of the account signed in
    /// (WAFIRA_NEW_PASSPHRASE, or asked).
    Passphrase,
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    Role::parse("role", s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum RecordCmd {
    /// Add one from a JSON object on stdin; prints the record.
    Add,
    /// Correct one: the fields to change as a JSON object on stdin (`null`
    /// clears one); checked again, as a whole. Prints the record.
    Update { id: Uuid },
    /// Withdraw one entered by mistake, saying why: kept in the history,
    /// out of the counts (a milestone's kind can then be entered again).
    Void {
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SortArg {
    Name,
    LastVisit,
    Stage,
}

fn parse_phase(s: &str) -> std::result::Result<Phase, String> {
    Phase::parse("phase", s).map_err(|e| e.to_string())
}

fn parse_sex(s: &str) -> std::result::Result<Sex, String> {
    Sex::parse("sex", s).map_err(|e| e.to_string())
}

/// A mistyped command is one line, like every other error (the help and
/// the version print as they are).
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("error: bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("error: {first} (wafira --help lists the commands)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let parsed = <Cli as clap::CommandFactory>::command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m).map(|cli| (m, cli)));
    let (matches, cli) = match parsed {
        Ok(p) => p,
        Err(e) => return argument_error(e),
    };
    match run(cli, &command_words(&matches)) {
        Ok(out) => {
            if let Some(v) = out {
                // A reader that stops early (`| head`) is no error of ours.
                let text = serde_json::to_string_pretty(&v).unwrap_or_default();
                if let Err(e) = writeln!(std::io::stdout().lock(), "{text}") {
                    if e.kind() != std::io::ErrorKind::BrokenPipe {
                        eprintln!("error: cannot write the output: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// The subcommands a run was given (`beneficiary list`), for the audit
/// trail: never their arguments.
fn command_words(matches: &clap::ArgMatches) -> String {
    let mut words = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        words.push(name);
        m = sub;
    }
    words.join(" ")
}

fn stdin_json() -> Result<Value> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(|e| Error::Other(format!("stdin is not one JSON object: {e}")))
}

fn json(v: impl serde::Serialize) -> Result<Option<Value>> {
    Ok(Some(serde_json::to_value(v)?))
}

/// Creates the encrypted database with its first account (the passphrase
/// from WAFIRA_PASSPHRASE, or asked twice) and its device identity.
fn init(path: &std::path::Path, device: &str, coordinator: &str, user: Option<&str>) -> Result<Option<Value>> {
    let account = user.map(str::to_string).or_else(unlock::user).unwrap_or_else(|| coordinator.to_string());
    let passphrase = unlock::new_passphrase(unlock::PASSPHRASE_ENV)?;
    let (store, recovery_key) = Store::create_device(path, &account, &passphrase, device, coordinator)?;
    let device = store.device()?;
    json(serde_json::json!({
        "device": device,
        "account": store.actor(),
        "recovery_key": recovery_key.as_str(),
        "recovery_note": "shown once: print it and keep it locked away; it opens the database when every passphrase is lost",
    }))
}

fn run(cli: Cli, words: &str) -> Result<Option<Value>> {
    let path = paths::database_path(cli.db)?;
    if let Command::Init { device, coordinator, user } = &cli.command {
        return init(&path, device, coordinator, user.as_deref());
    }
    let mut store = unlock::open(&path)?;
    if cli.practice {
        store = store.open_practice()?;
    }
    let out = match cli.command {
        Command::Init { .. } => Ok(None),
        Command::User(cmd) => match cmd {
            UserCmd::Add { name, role } => {
                json(store.put_account(&name, role, &unlock::new_passphrase(unlock::NEW_PASSPHRASE_ENV)?)?)
            }
            UserCmd::List => json(store.accounts()?),
            UserCmd::Remove { name } => json(serde_json::json!({ "removed": store.remove_account(&name)? })),
            UserCmd::Passphrase => {
                json(store.change_own_passphrase(&unlock::new_passphrase(unlock::NEW_PASSPHRASE_ENV)?)?)
            }
        },
        Command::Info => json(serde_json::json!({
            "database": store.path(),
            "account": store.actor(),
            "schema_version": store.schema_version()?,
            "device": store.device().ok(),
        })),
        Command::Beneficiary(cmd) => match cmd {
            BeneficiaryCmd::Add => json(store.add_beneficiary_json(stdin_json()?)?),
            BeneficiaryCmd::Update { id } => json(store.update_beneficiary(id, stdin_json()?)?),
            BeneficiaryCmd::Show { id } => json(store.profile(id)?),
            BeneficiaryCmd::Archive { id, reason } => json(store.archive_beneficiary(id, reason)?),
            BeneficiaryCmd::Restore { id } => json(store.restore_beneficiary(id)?),
            BeneficiaryCmd::Erase { id, reason } => json(store.erase_beneficiary(id, &reason)?),
            BeneficiaryCmd::List { search, region, province, phase, stage, sex, cohort, archived, sort, limit } => {
                let q = ListQuery {
                    search,
                    region,
                    province,
                    phase,
                    stage,
                    sex,
                    cohort,
                    include_archived: archived,
                    archived_only: false,
                    sort: match sort {
                        SortArg::Name => Sort::Name,
                        SortArg::LastVisit => Sort::LastVisit,
                        SortArg::Stage => Sort::Stage,
                    },
                    limit,
                    offset: 0,
                };
                json(store.list_beneficiaries(&q)?.rows)
            }
        },
        Command::Visit(cmd) => match cmd {
            RecordCmd::Add => json(store.add_visit_json(stdin_json()?)?),
            RecordCmd::Update { id } => json(store.update_visit(id, stdin_json()?)?),
            RecordCmd::Void { id, reason } => json(store.void_visit(id, Some(reason))?),
        },
        Command::Milestone(cmd) => match cmd {
            RecordCmd::Add => json(store.add_milestone_json(stdin_json()?)?),
            RecordCmd::Update { id } => json(store.update_milestone(id, stdin_json()?)?),
            RecordCmd::Void { id, reason } => json(store.void_milestone(id, Some(reason))?),
        },
        Command::Iga(cmd) => programme::run(&mut store, Entity::Iga, cmd),
        Command::Followup(cmd) => programme::run(&mut store, Entity::IgaFollowup, cmd),
        Command::Season(cmd) => programme::run(&mut store, Entity::Season, cmd),
        Command::Referral(cmd) => programme::run(&mut store, Entity::Referral, cmd),
        Command::Partner(cmd) => programme::run(&mut store, Entity::Partner, cmd),
        Command::Session(cmd) => programme::session(&mut store, cmd),
        Command::Followups { days, region, province, commune } => {
            let days = match days {
                Some(d) => d,
                None => store.followup_days()?,
            };
            json(store.followups_at(days, &wafira_core::store::Place { region, province, commune })?)
        }
        Command::Bundle(cmd) => sync::bundle(&mut store, cmd),
        Command::Conflicts(cmd) => sync::conflicts(&mut store, cmd),
        Command::Duplicates(cmd) => sync::duplicates(&mut store, cmd),
        Command::Devices { cmd } => sync::devices(&mut store, cmd),
        Command::Keys(cmd) => sync::keys(&mut store, cmd),
        Command::Backup(cmd) => sync::backup(&mut store, cmd),
        Command::Report(cmd) => report::report(&mut store, cmd),
        Command::Export(cmd) => report::export(&store, cmd),
        Command::Audit(cmd) => audit::audit(&mut store, cmd),
        Command::Demo { beneficiaries, seed } => {
            if !store.is_initialised() {
                eprintln!("note: this database had no device identity; it is now device 'demo'");
                store.init_device("demo", "Demo")?;
            }
            // A transaction per thousand people; large demos say how far
            // they got. Every page read is decrypted (SQLCipher): once the
            // file outgrows SQLite's 8 MB cache, each person's indexes
            // are read from the file again; a cache of 256 MB keeps them
            // (this process only).
            store.conn().pragma_update(None, "cache_size", -256 * 1024)?;
            let loud = beneficiaries > 10 * demo::BATCH;
            let started = std::time::Instant::now();
            json(demo::generate_in_batches(&mut store, beneficiaries, seed, demo::BATCH, |done| {
                if loud && done % (10 * demo::BATCH) == 0 {
                    eprintln!("{done} people written ({} s)", started.elapsed().as_secs());
                }
            })?)
        }
    }?;
    // The account signed in for this command: logged once it succeeded (a
    // command refused or failed changes nothing, the trail included).
    store.log_sign_in(&format!("cli {words}"))?;
    Ok(out)
}
