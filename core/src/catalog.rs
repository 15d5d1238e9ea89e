//! The action catalog and the preset routines that ship with the app (PRODUCT.md §3).
//!
//! Action ids and preset ids are part of the document format: once released they never change.
//! Preset routine and entry ids are fixed so that two devices that start offline hold the same
//! presets and merge them into one.

use serde::{Deserialize, Serialize};
use uuid::{Uuid, uuid};

/// Bumped whenever an action is added or its text changes.
pub const CATALOG_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Stretching,
    Body,
}

/// One exercise of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Action {
    pub id: &'static str,
    pub kind: ActionKind,
    pub name_ko: &'static str,
    pub name_en: &'static str,
    pub hint_ko: &'static str,
    pub hint_en: &'static str,
}

macro_rules! action {
    ($id:literal, $kind:ident, $ko:literal, $en:literal, $hko:literal, $hen:literal) => {
        Action { id: $id, kind: ActionKind::$kind, name_ko: $ko, name_en: $en, hint_ko: $hko, hint_en: $hen }
    };
}

/// The 18 actions: 13 stretches, then 5 body exercises, in the original's order.
pub const ACTIONS: [Action; 18] = [
    action!(
        "sit_stand",
        Stretching,
        "앉았다 일어나기",
        "Sit and stand",
        "의자에서 천천히 일어났다 앉아요",
        "Rise slowly from your chair and sit back down"
    ),
    action!(
        "neck_roll",
        Stretching,
        "목 돌리기",
        "Neck rolls",
        "목을 천천히 크게 돌려요",
        "Roll your neck in slow, wide circles"
    ),
    action!(
        "shoulder_roll",
        Stretching,
        "어깨 돌리기",
        "Shoulder rolls",
        "어깨를 앞뒤로 크게 돌려요",
        "Circle your shoulders forward and back"
    ),
    action!(
        "waist_roll",
        Stretching,
        "허리 돌리기",
        "Waist circles",
        "손을 허리에 얹고 골반을 돌려요",
        "Hands on hips, circle your hips"
    ),
    action!(
        "arm_circle",
        Stretching,
        "팔 돌리기",
        "Arm circles",
        "팔을 쭉 펴고 크게 돌려요",
        "Stretch your arms out and draw big circles"
    ),
    action!(
        "wrist_ankle_roll",
        Stretching,
        "손목·발목 돌리기",
        "Wrist and ankle rolls",
        "손목과 발목을 함께 돌려요",
        "Roll your wrists and ankles together"
    ),
    action!(
        "knee_roll",
        Stretching,
        "무릎 돌리기",
        "Knee circles",
        "무릎을 모으고 살살 돌려요",
        "Knees together, circle them gently"
    ),
    action!(
        "cat_pose",
        Stretching,
        "고양이 자세하기",
        "Cat pose",
        "등을 둥글게 말았다 펴요",
        "Round your back, then arch it"
    ),
    action!(
        "overhead_reach",
        Stretching,
        "머리 위로 손 뻗기",
        "Overhead reach",
        "깍지 끼고 머리 위로 쭉 뻗어요",
        "Interlace your fingers and reach up high"
    ),
    action!(
        "forward_bend",
        Stretching,
        "허리 굽히기",
        "Forward bend",
        "무릎을 펴고 천천히 숙여요",
        "Keep your knees straight and fold forward slowly"
    ),
    action!(
        "breathing",
        Stretching,
        "숨고르기",
        "Deep breaths",
        "코로 들이쉬고 입으로 내쉬어요",
        "In through the nose, out through the mouth"
    ),
    action!(
        "neck_stretch",
        Stretching,
        "목 늘리기",
        "Neck stretch",
        "손으로 머리를 살짝 당겨요",
        "Gently pull your head to the side"
    ),
    action!(
        "lying_reach",
        Stretching,
        "누워서 팔다리 위로 뻗기",
        "Lying limb reach",
        "누워서 팔다리를 위로 쭉 뻗어요",
        "Lie down and reach your arms and legs up"
    ),
    action!("squat", Body, "스쿼트", "Squat", "엉덩이를 뒤로 빼며 앉아요", "Push your hips back as you sit down"),
    action!("lunge", Body, "런지", "Lunge", "한 발 앞으로 내딛고 무릎을 굽혀요", "Step forward and bend both knees"),
    action!("plank", Body, "플랭크", "Plank", "몸을 일자로 곧게 버텨요", "Hold your body in one straight line"),
    action!(
        "push_up",
        Body,
        "푸쉬업",
        "Push-up",
        "가슴이 바닥에 닿을 듯 내려가요",
        "Lower your chest close to the floor"
    ),
    action!(
        "sky_bike",
        Body,
        "하늘 자전거",
        "Sky bicycle",
        "누워서 다리로 자전거를 타요",
        "Lie back and pedal in the air"
    ),
];

/// The action with this id, if the catalog has it.
pub fn action(id: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.id == id)
}

/// A preset routine: fixed ids, present for every user, read-only.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub id: Uuid,
    pub name_ko: &'static str,
    pub name_en: &'static str,
    /// (entry id, action id, count)
    pub entries: &'static [(Uuid, &'static str, u8)],
}

pub const PRESETS: [Preset; 2] = [
    Preset {
        id: uuid!("6d696e67-697a-756b-0001-000000000000"),
        name_ko: "움직이기 싫은 오늘, 기본만 하자!",
        name_en: "Don't feel like moving? Just the basics!",
        entries: &[
            (uuid!("6d696e67-697a-756b-0001-000000000001"), "sit_stand", 10),
            (uuid!("6d696e67-697a-756b-0001-000000000002"), "neck_roll", 10),
            (uuid!("6d696e67-697a-756b-0001-000000000003"), "shoulder_roll", 10),
            (uuid!("6d696e67-697a-756b-0001-000000000004"), "waist_roll", 10),
            (uuid!("6d696e67-697a-756b-0001-000000000005"), "knee_roll", 10),
        ],
    },
    Preset {
        id: uuid!("6d696e67-697a-756b-0002-000000000000"),
        name_ko: "오늘은 좀 운동이 필요한 날이야!",
        name_en: "Today I really need a workout!",
        entries: &[
            (uuid!("6d696e67-697a-756b-0002-000000000001"), "squat", 10),
            (uuid!("6d696e67-697a-756b-0002-000000000002"), "lunge", 10),
            (uuid!("6d696e67-697a-756b-0002-000000000003"), "plank", 10),
            (uuid!("6d696e67-697a-756b-0002-000000000004"), "push_up", 10),
        ],
    },
];

/// The preset with this id.
pub fn preset(id: Uuid) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// The three characters a user can collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Character {
    Mingi,
    Muneo,
    Mongsil,
}

impl Character {
    pub const ALL: [Character; 3] = [Character::Mingi, Character::Muneo, Character::Mongsil];

    pub fn id(self) -> &'static str {
        match self {
            Character::Mingi => "mingi",
            Character::Muneo => "muneo",
            Character::Mongsil => "mongsil",
        }
    }

    pub fn from_id(id: &str) -> Option<Character> {
        Character::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn name_ko(self) -> &'static str {
        match self {
            Character::Mingi => "밍기",
            Character::Muneo => "무너",
            Character::Mongsil => "몽실이",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Character::Mingi => "Mingi",
            Character::Muneo => "Muneo",
            Character::Mongsil => "Mongsil",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_thirteen_stretches_and_five_body_exercises() {
        let stretches = ACTIONS.iter().filter(|a| a.kind == ActionKind::Stretching).count();
        let body = ACTIONS.iter().filter(|a| a.kind == ActionKind::Body).count();
        assert_eq!((stretches, body), (13, 5));
        let mut ids: Vec<_> = ACTIONS.iter().map(|a| a.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 18, "action ids are unique");
    }

    #[test]
    fn presets_are_the_two_routines_of_the_original_each_times_ten() {
        let basic: Vec<_> = PRESETS[0].entries.iter().map(|e| action(e.1).map(|a| a.name_ko)).collect();
        assert_eq!(basic, ["앉았다 일어나기", "목 돌리기", "어깨 돌리기", "허리 돌리기", "무릎 돌리기"].map(Some));
        let workout: Vec<_> = PRESETS[1].entries.iter().map(|e| action(e.1).map(|a| a.name_ko)).collect();
        assert_eq!(workout, ["스쿼트", "런지", "플랭크", "푸쉬업"].map(Some));
        assert!(PRESETS.iter().flat_map(|p| p.entries).all(|e| e.2 == 10));
    }
}
