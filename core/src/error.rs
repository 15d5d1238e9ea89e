//! The typed errors of the domain rules. Each has a stable snake_case code that the client, the
//! server and the UI show and match on; the codes never change once released.

use thiserror::Error;

use crate::export::ImportRefusal;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("a routine needs a name")]
    NameEmpty,
    #[error("a routine name has at most {max} characters")]
    NameTooLong { max: usize },
    #[error("another routine is already called \"{0}\"")]
    NameTaken(String),
    #[error("a routine needs at least one action")]
    NoActions,
    #[error("a routine has at most {max} actions")]
    TooManyActions { max: usize },
    #[error("an action is repeated {min}–{max} times")]
    CountOutOfRange { min: u8, max: u8 },
    #[error("\"{0}\" is not an action of the catalog")]
    UnknownAction(String),
    #[error("\"{0}\" appears twice in the routine")]
    DuplicateAction(String),
    #[error("no such routine")]
    RoutineNotFound,
    #[error("this routine was deleted")]
    RoutineDeleted,
    #[error("preset routines cannot be edited or deleted")]
    PresetReadOnly,
    #[error("that action is not part of the routine")]
    EntryNotInRoutine,
    #[error("that action is already done in this cycle")]
    AlreadyCompleted,
    #[error("the routine can restart only once every action of the cycle is done")]
    CycleNotComplete,
    #[error("this routine has no cycle after its current one")]
    CycleLimit,
    #[error("draw a character first")]
    NeedCharacter,
    #[error("a character is still growing")]
    CharacterGrowing,
    #[error("every character is already collected")]
    CollectionComplete,
    #[error("{0}")]
    InvalidDocument(String),
    /// An import file refused whole, with the reason the app words (see `export::ImportReason`).
    #[error("{0}")]
    InvalidImport(Box<ImportRefusal>),
}

impl RuleError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::NameEmpty => "routine_name_empty",
            RuleError::NameTooLong { .. } => "routine_name_too_long",
            RuleError::NameTaken(_) => "routine_name_taken",
            RuleError::NoActions => "routine_no_actions",
            RuleError::TooManyActions { .. } => "routine_too_many_actions",
            RuleError::CountOutOfRange { .. } => "action_count_out_of_range",
            RuleError::UnknownAction(_) => "unknown_action",
            RuleError::DuplicateAction(_) => "duplicate_action",
            RuleError::RoutineNotFound => "routine_not_found",
            RuleError::RoutineDeleted => "routine_deleted",
            RuleError::PresetReadOnly => "preset_read_only",
            RuleError::EntryNotInRoutine => "entry_not_in_routine",
            RuleError::AlreadyCompleted => "already_completed",
            RuleError::CycleNotComplete => "cycle_not_complete",
            RuleError::CycleLimit => "cycle_limit_reached",
            RuleError::NeedCharacter => "need_character",
            RuleError::CharacterGrowing => "character_growing",
            RuleError::CollectionComplete => "collection_complete",
            RuleError::InvalidDocument(_) => "invalid_document",
            RuleError::InvalidImport(_) => "invalid_import",
        }
    }

    /// Why an import was refused, when this is an import's refusal.
    pub fn import_refusal(&self) -> Option<&ImportRefusal> {
        match self {
            RuleError::InvalidImport(refusal) => Some(refusal),
            _ => None,
        }
    }
}
