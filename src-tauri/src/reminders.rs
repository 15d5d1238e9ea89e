//! Reminders (PRODUCT.md §9): at start, once a minute, and at once when the reminder time is set,
//! an account signed in, or the server confirmed a join (or a meetup created or moved), a
//! background task gathers the situation (the local time, the reminder setting, whether today's
//! main routine is done, the joined meetups about to start) and asks [`due`], a pure function,
//! what to notify. The joined meetups are asked of the server when woken so and every
//! [`REFRESH`]; the other minutes read them as last listed. What was
//! notified is remembered in `reminders.json` in the data folder, so a restart never notifies
//! twice. Notifications go through the Tauri notification plugin (on Linux, the desktop's
//! notification server over D-Bus).
//!
//! The rules:
//! - Daily: from the chosen time (minutes after local midnight) until [`DAILY_WINDOW_MINUTES`]
//!   later, once per local date, and only while no cycle of the main routine was completed today
//!   (with no main routine set, it reminds all the same: nothing was done). An app opened hours
//!   after the chosen time stays quiet: a late nag is guilt, not help.
//! - Meetups: once per meetup and start time, when a meetup the user joined (hosting counts: the
//!   host is a member) starts within [`MEETUP_LEAD_MINUTES`]: one moved to a new time is
//!   announced again before it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike, Utc};
use mingizuk_client::core::model::Language;
use mingizuk_client::social::{MeetupId, OutboxItem, Role, Social, SocialEvent, Write, kind};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, broadcast};

use crate::error::CommandResult;
use crate::state::Shell;

/// The daily reminder may fire this long after its time (the task wakes once a minute; a device
/// asleep at the time still gets it when it wakes soon after).
pub const DAILY_WINDOW_MINUTES: u32 = 60;
/// A joined meetup is announced this long before it starts.
pub const MEETUP_LEAD_MINUTES: i64 = 30;
/// How often the task looks.
pub const TICK: Duration = Duration::from_secs(60);
/// How often the joined meetups are asked of the server (a few pages of two lists) when nothing
/// woke the task: between, the lists as last fetched serve (a meetup moved by its host is seen
/// within this, and announced if it then starts within [`MEETUP_LEAD_MINUTES`]).
pub const REFRESH: Duration = Duration::from_secs(15 * 60);

/// A joined meetup that has not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    pub id: MeetupId,
    pub title: String,
    pub starts_at: DateTime<Utc>,
}

/// Everything [`due`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// Now, in the device's local time zone.
    pub now: DateTime<FixedOffset>,
    pub reminder_minutes: Option<u16>,
    pub main_done_today: bool,
    pub joined: Vec<Upcoming>,
}

/// What was already notified (`reminders.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The local date of the last daily reminder.
    pub daily: Option<NaiveDate>,
    /// Meetups announced, with the start announced (a new start is announced again; forgotten a
    /// day after).
    pub meetups: BTreeMap<MeetupId, DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminder {
    Daily,
    Meetup { id: MeetupId, title: String, minutes_left: i64 },
}

/// What to notify now.
pub fn due(situation: &Situation, sent: &Sent) -> Vec<Reminder> {
    let mut reminders = Vec::new();
    let today = situation.now.date_naive();
    let minute_of_day = situation.now.hour() * 60 + situation.now.minute();
    if let Some(at) = situation.reminder_minutes.map(u32::from)
        && (at..at + DAILY_WINDOW_MINUTES).contains(&minute_of_day)
        && sent.daily != Some(today)
        && !situation.main_done_today
    {
        reminders.push(Reminder::Daily);
    }
    let now = situation.now.with_timezone(&Utc);
    for meetup in &situation.joined {
        let left = meetup.starts_at - now;
        if left > chrono::TimeDelta::zero()
            && left <= chrono::TimeDelta::minutes(MEETUP_LEAD_MINUTES)
            && sent.meetups.get(&meetup.id) != Some(&meetup.starts_at)
        {
            // Rounded up: "starts in 30 minutes" at 29 min 30 s.
            let minutes_left = (left.num_seconds() + 59) / 60;
            reminders.push(Reminder::Meetup { id: meetup.id, title: meetup.title.clone(), minutes_left });
        }
    }
    reminders
}

impl Sent {
    /// Remembers what was just notified, and forgets meetups that started over a day ago.
    pub fn record(&mut self, situation: &Situation, reminders: &[Reminder]) {
        for reminder in reminders {
            match reminder {
                Reminder::Daily => self.daily = Some(situation.now.date_naive()),
                Reminder::Meetup { id, .. } => {
                    if let Some(m) = situation.joined.iter().find(|m| m.id == *id) {
                        self.meetups.insert(*id, m.starts_at);
                    }
                }
            }
        }
        let horizon = situation.now.with_timezone(&Utc) - chrono::TimeDelta::days(1);
        self.meetups.retain(|_, starts_at| *starts_at > horizon);
    }

    fn path(dir: &Path) -> PathBuf {
        dir.join("reminders.json")
    }

    pub fn load(dir: &Path) -> Sent {
        std::fs::read(Self::path(dir)).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    pub fn save(&self, dir: &Path) -> CommandResult<()> {
        crate::files::write_json(&Self::path(dir), self)
    }
}

/// The notification's title and body, in the user's language.
pub fn text(reminder: &Reminder, language: Language) -> (String, String) {
    match (reminder, language) {
        (Reminder::Daily, Language::Ko) => ("밍기적".into(), "오늘도 작은 밍기적을 만들어봐요!🙌".into()),
        (Reminder::Daily, Language::En) => ("Mingizuk".into(), "Time for today's small 밍기적!🙌".into()),
        (Reminder::Meetup { title, minutes_left, .. }, Language::Ko) => {
            (title.clone(), format!("모임이 {minutes_left}분 뒤에 시작해요"))
        }
        (Reminder::Meetup { title, minutes_left, .. }, Language::En) => {
            (title.clone(), format!("Your meetup starts in {minutes_left} minutes"))
        }
    }
}

/// Starts the reminder task (for as long as the app runs): it looks at start, once a [`TICK`],
/// and whenever [`Shell::reminders`] is notified.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let dir = app.state::<Shell>().config.data_dir.clone();
        let mut sent = Sent::load(&dir);
        // At start, the lists are asked of the server.
        let (mut fresh, mut asked) = (true, tokio::time::Instant::now());
        loop {
            let shell = app.state::<Shell>();
            if fresh {
                asked = tokio::time::Instant::now();
            }
            look(&app, &shell, &dir, &mut sent, fresh).await;
            fresh = tokio::select! {
                () = tokio::time::sleep(TICK) => asked.elapsed() >= REFRESH,
                () = shell.reminders.notified() => true,
            };
        }
    });
}

/// Queues a social write that changes which joined meetups start soon (a join, a meetup created or
/// moved) and has the reminder task look once the server confirmed it; answers the write's key.
pub async fn queue_then_look<F, Fut>(shell: &Shell, write: F) -> CommandResult<String>
where
    F: FnOnce(Arc<Social>) -> Fut,
    Fut: Future<Output = mingizuk_client::Result<String>>,
{
    let social = shell.social().await?;
    let delivered = social.events();
    let key = write(social).await?;
    look_once_sent(&shell.reminders, delivered, &key);
    Ok(key)
}

/// Wakes the reminder task once the server confirmed the outbox write `key` (a join, a meetup
/// created or moved: the joined meetups changed), so that a meetup starting soon is announced at
/// once. `events` must be subscribed before the write is queued, or its confirmation may be missed.
pub fn look_once_sent(wake: &Arc<Notify>, mut events: broadcast::Receiver<SocialEvent>, key: &str) {
    let (wake, key) = (wake.clone(), key.to_owned());
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(SocialEvent::Sent { key: sent }) if sent == key => break wake.notify_one(),
                Ok(SocialEvent::Refused { key: refused, .. }) if refused == key => break,
                Ok(_) => {}
                // Its confirmation may be among the missed: look all the same.
                Err(RecvError::Lagged(_)) => break wake.notify_one(),
                // Signed out: nothing joined to remind of.
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Shows what is due now and remembers it; `fresh`: the joined meetups are asked of the server.
async fn look<R: Runtime>(app: &AppHandle<R>, shell: &Shell, dir: &Path, sent: &mut Sent, fresh: bool) {
    let situation = match gather(shell, fresh).await {
        Ok(situation) => situation,
        Err(e) => {
            tracing::warn!(error = %e, "reminders: cannot read the situation");
            return;
        }
    };
    #[cfg(desktop)]
    if let Some(autostart) = app.try_state::<crate::autostart::Autostart>()
        && let Err(e) = autostart.follow(
            // Started at login, an app with no tray would open its window: no entry then.
            crate::tray_library::available()
                && crate::background::stays(situation.reminder_minutes, meetup_ahead(&situation.joined, situation.now)),
        )
    {
        tracing::warn!(error = %e, "reminders: cannot set whether the app starts at login");
    }
    let reminders = due(&situation, sent);
    if reminders.is_empty() {
        return;
    }
    let language = shell.engine.settings().await.language;
    for reminder in &reminders {
        let (title, body) = text(reminder, language);
        if let Err(e) = app.notification().builder().title(title).body(body).show() {
            tracing::warn!(error = %e, "reminders: cannot show a notification");
        }
    }
    sent.record(&situation, &reminders);
    if let Err(e) = sent.save(dir) {
        tracing::warn!(error = %e, "reminders: cannot remember what was notified");
    }
}

async fn gather(shell: &Shell, fresh: bool) -> CommandResult<Situation> {
    let settings = shell.engine.settings().await;
    let main_done_today = shell.engine.main_routine_done_today().await?;
    let joined = joined(shell, fresh).await;
    // Read after the lists, which may have waited on the network.
    let now = chrono::Local::now().fixed_offset();
    Ok(Situation { now, reminder_minutes: settings.reminder_minutes, main_done_today, joined })
}

/// The joined meetups that have not started, as the social side knows them (`fresh`: asked of
/// the server, or as last listed when it cannot answer; otherwise as last listed; none signed
/// out).
pub async fn joined(shell: &Shell, fresh: bool) -> Vec<Upcoming> {
    let Some(social) = shell.social_if_signed_in().await else { return Vec::new() };
    let mut joined = joined_in(|role| {
        let social = social.clone();
        async move { if fresh { social.my_meetups(role).await } else { social.my_meetups_cached(role).await } }
    })
    .await;
    match social.outbox().await {
        Ok(outbox) => {
            let gone = leaving(&outbox);
            joined.retain(|meetup| !gone.contains(&meetup.id));
        }
        Err(e) => tracing::debug!(error = %e, "reminders: cannot read the outbox"),
    }
    joined
}

/// Whether one of the `joined` meetups has yet to start at `now`.
pub fn meetup_ahead<Tz: chrono::TimeZone>(joined: &[Upcoming], now: DateTime<Tz>) -> bool {
    joined.iter().any(|meetup| meetup.starts_at > now)
}

/// The meetups this device queued a leave or a deletion of that the server has not answered
/// (nor refused): not reminded of, though the lists as last fetched (offline) still hold them.
pub fn leaving(outbox: &[OutboxItem]) -> std::collections::BTreeSet<MeetupId> {
    let meetup = |path: &str, suffix: &str| path.strip_prefix("/v1/meetups/")?.strip_suffix(suffix)?.parse().ok();
    outbox
        .iter()
        .filter(|item| item.refused.is_none())
        .filter_map(|item| match &item.write {
            Write::Http { kind: k, path, .. } if k == kind::LEAVE => meetup(path, "/members/me"),
            Write::Http { kind: k, path, .. } if k == kind::DELETE_MEETUP => meetup(path, ""),
            _ => None,
        })
        .collect()
}

/// The "my meetups" lists that hold the meetups the user is a member of: the server lists the
/// meetups a user hosts only among the hosted, never among the joined.
const JOINED_LISTS: [Role; 2] = [Role::Host, Role::Member];

/// The meetups of the [`JOINED_LISTS`] as `list` answers them, each once. A list that cannot be
/// read is left out; the other still counts.
pub async fn joined_in<F, Fut>(list: F) -> Vec<Upcoming>
where
    F: Fn(Role) -> Fut,
    Fut: Future<Output = mingizuk_client::Result<Vec<serde_json::Value>>>,
{
    let mut seen = std::collections::BTreeSet::new();
    let mut joined = Vec::new();
    for role in JOINED_LISTS {
        let meetups = list(role).await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, ?role, "reminders: cannot list my meetups");
            Vec::new()
        });
        joined.extend(meetups.iter().filter_map(upcoming).filter(|m| seen.insert(m.id)));
    }
    joined
}

fn upcoming(meetup: &serde_json::Value) -> Option<Upcoming> {
    Some(Upcoming {
        id: meetup["id"].as_i64()?,
        title: meetup["title"].as_str()?.to_owned(),
        starts_at: DateTime::parse_from_rfc3339(meetup["starts_at"].as_str()?).ok()?.with_timezone(&Utc),
    })
}

#[cfg(test)]
mod tests;
