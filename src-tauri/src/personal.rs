//! Commands on personal data (COMMANDS.md "Personal"): each one call into the engine. They work
//! offline and with no account.

use mingizuk_client::Completed;
use mingizuk_client::core::catalog::{self, Action, Character};
use mingizuk_client::core::export::ImportReport;
use mingizuk_client::core::history::{ChartMode, MonthGrid, WeekPage};
use mingizuk_client::core::limits;
use mingizuk_client::core::model::{Language, RoutineId};
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::social::{COMMENT_MAX_CHARS, MESSAGE_MAX_CHARS};
use mingizuk_client::views::{Collection, Home, RoutineView, Stats};
use serde::{Deserialize, Serialize};
use tauri::State;
use uuid::Uuid;

use crate::error::CommandResult;
use crate::state::Shell;

/// The product's limits, for the forms (one source of truth: `core::limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub routine_name_max: usize,
    pub routine_actions_max: usize,
    pub action_count_max: u8,
    pub meetup_title_max: usize,
    pub meetup_contents_max: usize,
    pub comment_max: usize,
    pub message_max: usize,
    pub nickname_max: usize,
    pub password_min: usize,
    pub password_max: usize,
    pub import_max_bytes: usize,
}

pub const LIMITS: Limits = Limits {
    routine_name_max: limits::ROUTINE_NAME_MAX_CHARS,
    routine_actions_max: limits::ROUTINE_MAX_ACTIONS,
    action_count_max: limits::ACTION_COUNT_MAX,
    meetup_title_max: limits::MEETUP_TITLE_MAX_CHARS,
    meetup_contents_max: limits::MEETUP_CONTENTS_MAX_CHARS,
    comment_max: COMMENT_MAX_CHARS,
    message_max: MESSAGE_MAX_CHARS,
    nickname_max: limits::NICKNAME_MAX_CHARS,
    password_min: limits::PASSWORD_MIN_CHARS,
    password_max: limits::PASSWORD_MAX_CHARS,
    import_max_bytes: limits::IMPORT_MAX_BYTES,
};

/// The settings screen: the synced settings and this device's onboarding flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub language: Language,
    pub reminder_minutes: Option<u16>,
    pub onboarded: bool,
}

#[tauri::command]
pub async fn home(shell: State<'_, Shell>) -> CommandResult<Home> {
    Ok(shell.engine.home().await?)
}

#[tauri::command]
pub fn catalog() -> Vec<Action> {
    catalog::ACTIONS.to_vec()
}

#[tauri::command]
pub fn limits() -> Limits {
    LIMITS
}

#[tauri::command]
pub async fn routines(shell: State<'_, Shell>) -> CommandResult<Vec<RoutineView>> {
    Ok(shell.engine.routines().await)
}

#[tauri::command]
pub async fn routine(shell: State<'_, Shell>, id: RoutineId) -> CommandResult<RoutineView> {
    Ok(shell.engine.routine(id).await?)
}

#[tauri::command]
pub async fn create_routine(shell: State<'_, Shell>, name: String, picks: Vec<ActionPick>) -> CommandResult<RoutineId> {
    Ok(shell.engine.create_routine(&name, &picks).await?)
}

#[tauri::command]
pub async fn edit_routine(
    shell: State<'_, Shell>,
    id: RoutineId,
    name: String,
    picks: Vec<ActionPick>,
) -> CommandResult<()> {
    Ok(shell.engine.edit_routine(id, &name, &picks).await?)
}

#[tauri::command]
pub async fn delete_routine(shell: State<'_, Shell>, id: RoutineId) -> CommandResult<()> {
    Ok(shell.engine.delete_routine(id).await?)
}

#[tauri::command]
pub async fn set_main(shell: State<'_, Shell>, id: Option<RoutineId>) -> CommandResult<()> {
    Ok(shell.engine.set_main(id).await?)
}

/// Sets the main routine and resets `reset`'s cycle (the replaced main) in one write.
#[tauri::command]
pub async fn switch_main(
    shell: State<'_, Shell>,
    id: Option<RoutineId>,
    reset: Option<RoutineId>,
) -> CommandResult<()> {
    Ok(shell.engine.switch_main(id, reset).await?)
}

#[tauri::command]
pub async fn reset_cycle(shell: State<'_, Shell>, routine: RoutineId) -> CommandResult<()> {
    Ok(shell.engine.reset(routine).await?)
}

#[tauri::command]
pub async fn restart_cycle(shell: State<'_, Shell>, routine: RoutineId) -> CommandResult<()> {
    Ok(shell.engine.restart(routine).await?)
}

#[tauri::command]
pub async fn complete_action(shell: State<'_, Shell>, routine: RoutineId, entry: Uuid) -> CommandResult<Completed> {
    Ok(shell.engine.complete_action(routine, entry).await?)
}

#[tauri::command]
pub async fn draw_character(shell: State<'_, Shell>) -> CommandResult<Character> {
    Ok(shell.engine.draw_character().await?)
}

#[tauri::command]
pub async fn collection(shell: State<'_, Shell>) -> CommandResult<Collection> {
    Ok(shell.engine.collection().await)
}

#[tauri::command]
pub async fn tracker_month(shell: State<'_, Shell>, year: i32, month: u32) -> CommandResult<MonthGrid> {
    Ok(shell.engine.tracker_month(year, month).await?)
}

#[tauri::command]
pub async fn week_page(shell: State<'_, Shell>, week: Option<u32>, mode: ChartMode) -> CommandResult<WeekPage> {
    Ok(shell.engine.week_page(week, mode).await?)
}

#[tauri::command]
pub async fn stats(shell: State<'_, Shell>) -> CommandResult<Stats> {
    Ok(shell.engine.stats().await?)
}

#[tauri::command]
pub async fn settings(shell: State<'_, Shell>) -> CommandResult<Settings> {
    let synced = shell.engine.settings().await;
    let onboarded = shell.device.lock().await.onboarded;
    Ok(Settings { language: synced.language, reminder_minutes: synced.reminder_minutes, onboarded })
}

#[tauri::command]
pub async fn set_language(shell: State<'_, Shell>, language: Language) -> CommandResult<()> {
    Ok(shell.engine.set_language(language).await?)
}

#[tauri::command]
pub async fn set_reminder(shell: State<'_, Shell>, minutes: Option<u16>) -> CommandResult<()> {
    shell.engine.set_reminder(minutes).await?;
    shell.reminders.notify_one();
    Ok(())
}

/// The two kinds of export (PRODUCT.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Everything, every id kept: the file `import_data` reads back.
    Json,
    /// The history, for spreadsheets.
    Csv,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    /// The file written, in the export folder (the downloads folder unless configured).
    pub path: String,
}

#[tauri::command]
pub async fn export_data(shell: State<'_, Shell>, format: ExportFormat) -> CommandResult<Exported> {
    let (text, ext) = match format {
        ExportFormat::Json => (shell.engine.export_json().await?, "json"),
        ExportFormat::Csv => (shell.engine.export_csv().await?, "csv"),
    };
    let stem = format!("mingizuk-{}", chrono::Local::now().format("%Y-%m-%d"));
    let path = crate::files::write_new(&shell.config.export_dir, &stem, ext, &text)?;
    Ok(Exported { path: path.display().to_string() })
}

#[tauri::command]
pub async fn import_data(shell: State<'_, Shell>, json: String) -> CommandResult<ImportReport> {
    Ok(shell.engine.import(&json).await?)
}

#[tauri::command]
pub async fn finish_onboarding(shell: State<'_, Shell>) -> CommandResult<()> {
    let mut device = shell.device.lock().await;
    device.onboarded = true;
    device.save(&shell.config.data_dir)
}

/// The home screen's first paint, as wall-clock milliseconds in `$MINGIZUK_PAINT_MARK` when that
/// is set (the app benchmark, `bench --bin app`, measures launch → first paint with it).
#[tauri::command]
pub fn painted() {
    if let Some(path) = std::env::var_os("MINGIZUK_PAINT_MARK") {
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        if let Err(error) = std::fs::write(&path, ms.to_string()) {
            tracing::warn!("cannot write the paint mark: {error}");
        }
    }
}
