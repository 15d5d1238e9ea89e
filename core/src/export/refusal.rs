//! Why an import was refused, in no one language: a stable reason the app words in the user's
//! language, the details worth naming (a routine's name, a date, a format version, a limit) as
//! values, and an English sentence for logs. User-facing text is the app's, never made here: the
//! English `message` is for a log and for tests, and may change; the reasons may not once released.

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::RuleError;

/// The kinds of import refusal, grouped by what the user can do about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportReason {
    /// Larger than any export can be (the engine's size limit, `max` MB).
    TooBig,
    /// Not JSON at all: another kind of file was chosen.
    NotJson,
    /// JSON, but not a Mingizuk export.
    NotAnExport,
    /// An export of a later format (`version`): the app needs an update.
    NewerVersion,
    /// An export whose structure does not hold together (fields missing or of the wrong kind, a
    /// bad id, a reference to a routine it does not hold): damaged or edited by hand.
    Damaged,
    /// A routine, completion or draw that appears twice.
    Duplicate,
    /// A preset routine this build does not have (a later build's, or an edited file).
    UnknownPreset,
    /// A custom routine with an empty name or one longer than `max` characters.
    BadName,
    /// A custom routine whose actions break the routine rules (unknown, repeated, too many, a
    /// count out of range).
    BadActions,
    /// A routine's cycle with a wrong number or start, or a number past the limit.
    BadCycle,
    /// A completion that names no action or cycle of its routine, or a count out of range.
    BadCompletion,
    /// A record dated before Mingizuk, or after the file's own export.
    BadDate,
    /// A record dated after the device's clock (`date`): the clock may be wrong.
    FutureDate,
}

impl ImportReason {
    /// Every reason, for tests and for the app's table of texts.
    pub const ALL: [ImportReason; 13] = [
        ImportReason::TooBig,
        ImportReason::NotJson,
        ImportReason::NotAnExport,
        ImportReason::NewerVersion,
        ImportReason::Damaged,
        ImportReason::Duplicate,
        ImportReason::UnknownPreset,
        ImportReason::BadName,
        ImportReason::BadActions,
        ImportReason::BadCycle,
        ImportReason::BadCompletion,
        ImportReason::BadDate,
        ImportReason::FutureDate,
    ];

    /// The stable snake_case name the app matches on, and the reason's serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportReason::TooBig => "too_big",
            ImportReason::NotJson => "not_json",
            ImportReason::NotAnExport => "not_an_export",
            ImportReason::NewerVersion => "newer_version",
            ImportReason::Damaged => "damaged",
            ImportReason::Duplicate => "duplicate",
            ImportReason::UnknownPreset => "unknown_preset",
            ImportReason::BadName => "bad_name",
            ImportReason::BadActions => "bad_actions",
            ImportReason::BadCycle => "bad_cycle",
            ImportReason::BadCompletion => "bad_completion",
            ImportReason::BadDate => "bad_date",
            ImportReason::FutureDate => "future_date",
        }
    }
}

impl Serialize for ImportReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What a refusal names, as values for the app's sentence. Each is absent when the refusal has
/// none to name (a draw has no routine; an instant past what a date holds has no date).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ImportDetails {
    /// The name of the routine concerned, as the user knows it (a preset's in the account's
    /// language), cut to a length a sentence can hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routine: Option<String>,
    /// The date of the record concerned ("YYYY-MM-DD").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// The format version of a newer export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The limit broken: characters of a routine name, or megabytes of a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// One refused import: its reason, what it names, and an English sentence for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRefusal {
    pub reason: ImportReason,
    pub details: ImportDetails,
    pub message: String,
}

/// The most characters of a routine's name a refusal repeats: a forged name may be any length.
const NAME_SHOWN_CHARS: usize = 40;

impl ImportRefusal {
    pub fn new(reason: ImportReason, message: impl std::fmt::Display) -> ImportRefusal {
        ImportRefusal { reason, details: ImportDetails::default(), message: message.to_string() }
    }

    /// Names the routine concerned; an empty name names none.
    pub fn routine(mut self, name: Option<&str>) -> ImportRefusal {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        self.details.routine = name.map(|n| {
            if n.chars().count() > NAME_SHOWN_CHARS {
                format!("{}…", n.chars().take(NAME_SHOWN_CHARS).collect::<String>().trim_end())
            } else {
                n.to_owned()
            }
        });
        self
    }

    pub fn date(mut self, date: Option<NaiveDate>) -> ImportRefusal {
        self.details.date = date;
        self
    }

    pub fn version(mut self, version: u32) -> ImportRefusal {
        self.details.version = Some(version);
        self
    }

    pub fn max(mut self, max: usize) -> ImportRefusal {
        self.details.max = u32::try_from(max).ok();
        self
    }
}

impl std::fmt::Display for ImportRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ImportRefusal> for RuleError {
    fn from(refusal: ImportRefusal) -> RuleError {
        RuleError::InvalidImport(Box::new(refusal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_serializes_as_its_stable_name() {
        for reason in ImportReason::ALL {
            let json = serde_json::to_value(reason).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(reason.as_str()));
        }
        let names: std::collections::BTreeSet<_> = ImportReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), ImportReason::ALL.len(), "one name per reason");
        assert_eq!(serde_json::to_string(&ImportReason::NotAnExport).ok().as_deref(), Some("\"not_an_export\""));
    }

    #[test]
    fn a_long_name_is_cut_and_an_empty_one_names_nothing() {
        let long = "가".repeat(500);
        let named = ImportRefusal::new(ImportReason::BadName, "x").routine(Some(&long));
        assert_eq!(named.details.routine.map(|n| n.chars().count()), Some(NAME_SHOWN_CHARS + 1));
        assert_eq!(ImportRefusal::new(ImportReason::BadName, "x").routine(Some("  ")).details.routine, None);
    }
}
