//! A meetup's region (PRODUCT.md §6): "시·도 시·군·구" derived from a Korean address, the same way
//! on the server (place search, meetup writes) and on devices. Geocoders write the province in
//! several forms (Kakao "서울 강남구 …", Nominatim "서울특별시 …", older names like "강원도"); all
//! of them map to the current official name so one region filter matches every source.

/// The one 시·도 without 시·군·구: its name alone is a whole region.
pub const SEJONG: &str = "세종특별자치시";

/// Every 시·도 by its current official name, with the other names addresses use for it.
const PROVINCES: [(&str, &[&str]); 17] = [
    ("서울특별시", &["서울", "서울시"]),
    ("부산광역시", &["부산", "부산시"]),
    ("대구광역시", &["대구", "대구시"]),
    ("인천광역시", &["인천", "인천시"]),
    ("광주광역시", &["광주"]),
    ("대전광역시", &["대전", "대전시"]),
    ("울산광역시", &["울산", "울산시"]),
    ("세종특별자치시", &["세종", "세종시"]),
    ("경기도", &["경기"]),
    ("강원특별자치도", &["강원", "강원도"]),
    ("충청북도", &["충북"]),
    ("충청남도", &["충남"]),
    ("전북특별자치도", &["전북", "전라북도"]),
    ("전라남도", &["전남"]),
    ("경상북도", &["경북"]),
    ("경상남도", &["경남"]),
    ("제주특별자치도", &["제주", "제주도"]),
];

/// The official name of a 시·도 written in any of its usual forms, or `None` if `name` is not one.
pub fn province_name(name: &str) -> Option<&'static str> {
    PROVINCES
        .iter()
        .find(|(official, others)| *official == name || others.contains(&name))
        .map(|(official, _)| *official)
}

/// The region "시·도 시·군·구" of a Korean address ("서울특별시 영등포구 여의동로 343" →
/// "서울특별시 영등포구"; "경기 성남시 분당구 …" → "경기도 성남시"). A 시·도 without 시·군·구
/// (세종) or an address that stops after the 시·도 gives the 시·도 alone. `None` when the address
/// does not start with a 시·도 (after an optional "대한민국").
pub fn region_of(address: &str) -> Option<String> {
    let mut words = address.split_whitespace().skip_while(|w| *w == "대한민국");
    let province = province_name(words.next()?)?;
    match words.next().filter(|w| is_district(w)) {
        Some(district) if province != SEJONG => Some(format!("{province} {district}")),
        _ => Some(province.to_owned()),
    }
}

/// The longest 시·군·구 name taken as one (the real ones have at most 5 characters): a longer
/// word is not a district, so a region stays a short key (MySQL stores it in 120 characters).
pub const DISTRICT_MAX_CHARS: usize = 10;

/// Whether `region` (as [`region_of`] gives it) names a place a meetup can be at: a 시·도 with its
/// 시·군·구, or 세종; a bare 시·도 does not.
pub fn is_whole(region: &str) -> bool {
    region.contains(' ') || region == SEJONG
}

/// Whether `word` names a 시, 군 or 구 (and is not just the suffix).
fn is_district(word: &str) -> bool {
    (2..=DISTRICT_MAX_CHARS).contains(&word.chars().count())
        && (word.ends_with('시') || word.ends_with('군') || word.ends_with('구'))
}

/// A list's region filter as stored regions spell it: a 시·도 alone ("서울" → "서울특별시") or a
/// full region ("서울 강남구" → "서울특별시 강남구"). Anything else is kept as given (trimmed).
pub fn normalize_filter(filter: &str) -> String {
    let mut words = filter.split_whitespace();
    let first = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    match province_name(first) {
        Some(full) if rest.is_empty() => full.to_owned(),
        Some(full) => format!("{full} {}", rest.join(" ")),
        None => filter.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// The character that escapes `%`, `_` and itself in [`province_pattern`] (SQLite and MySQL both
/// take it: `LIKE ? ESCAPE '!'`).
pub const LIKE_ESCAPE: char = '!';

/// The `LIKE` pattern (escaped with [`LIKE_ESCAPE`]) of the regions inside a filter that names a
/// 시·도 alone: "서울특별시" matches "서울특별시 강남구" and not "서울특별시청".
pub fn province_pattern(filter: &str) -> String {
    let mut pattern = String::with_capacity(filter.len() + 2);
    for c in filter.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push_str(" %");
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_province_pattern_escapes_what_like_would_take_as_wildcards() {
        assert_eq!(province_pattern("서울특별시"), "서울특별시 %");
        assert_eq!(province_pattern("50%_!"), "50!%!_!! %");
    }

    #[test]
    fn a_full_address_gives_its_province_and_district() {
        assert_eq!(region_of("서울특별시 영등포구 여의동로 343").as_deref(), Some("서울특별시 영등포구"));
        assert_eq!(region_of("부산광역시 해운대구 우동 1411").as_deref(), Some("부산광역시 해운대구"));
        assert_eq!(region_of("전라남도 담양군 담양읍 객사리").as_deref(), Some("전라남도 담양군"));
    }

    #[test]
    fn short_and_old_province_names_become_the_official_ones() {
        assert_eq!(region_of("서울 강남구 영동대로 513").as_deref(), Some("서울특별시 강남구"));
        assert_eq!(region_of("경기 수원시 팔달구 인계동").as_deref(), Some("경기도 수원시"));
        assert_eq!(region_of("강원도 춘천시 중앙로 1").as_deref(), Some("강원특별자치도 춘천시"));
        assert_eq!(region_of("전라북도 전주시 완산구").as_deref(), Some("전북특별자치도 전주시"));
        assert_eq!(region_of("제주 제주시 첨단로 242").as_deref(), Some("제주특별자치도 제주시"));
        assert_eq!(region_of("충북 청주시 상당구").as_deref(), Some("충청북도 청주시"));
    }

    #[test]
    fn a_city_with_wards_keeps_the_city_not_the_ward() {
        assert_eq!(region_of("경기도 성남시 분당구 판교역로 166").as_deref(), Some("경기도 성남시"));
    }

    #[test]
    fn sejong_and_bare_provinces_give_the_province_alone() {
        assert_eq!(region_of("세종특별자치시 한누리대로 2130").as_deref(), Some("세종특별자치시"));
        assert_eq!(region_of("세종 조치원읍").as_deref(), Some("세종특별자치시"));
        assert_eq!(region_of("경기도").as_deref(), Some("경기도"));
        assert_eq!(region_of("인천 중구").as_deref(), Some("인천광역시 중구"));
    }

    #[test]
    fn a_country_prefix_is_skipped_and_foreign_or_empty_addresses_have_no_region() {
        assert_eq!(region_of("대한민국 대구광역시 중구 동성로").as_deref(), Some("대구광역시 중구"));
        assert_eq!(region_of(""), None);
        assert_eq!(region_of("1600 Amphitheatre Parkway, Mountain View"), None);
        assert_eq!(region_of("도쿄도 신주쿠구"), None);
    }

    #[test]
    fn a_word_too_long_for_a_district_is_not_one() {
        let long = format!("{}구", "가".repeat(DISTRICT_MAX_CHARS));
        assert_eq!(region_of(&format!("서울 {long} 1")).as_deref(), Some("서울특별시"));
        let longest = format!("{}구", "가".repeat(DISTRICT_MAX_CHARS - 1));
        assert_eq!(region_of(&format!("서울 {longest} 1")), Some(format!("서울특별시 {longest}")));
    }

    #[test]
    fn filters_are_spelled_like_stored_regions() {
        assert_eq!(normalize_filter("서울"), "서울특별시");
        assert_eq!(normalize_filter(" 서울  강남구 "), "서울특별시 강남구");
        assert_eq!(normalize_filter("경기도 성남시"), "경기도 성남시");
        assert_eq!(normalize_filter("어딘가"), "어딘가");
    }
}
