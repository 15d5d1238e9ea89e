//! A meetup's region, "시·도 시·군·구", derived from a Korean address (PRODUCT.md §6). The server
//! derives it when a meetup is written and normalises a list's region filter the same way; the
//! client can use it to offer the filter. Short and former names of a 시·도 become today's full
//! name, so "서울 강남구 …" and "서울특별시 강남구 …" fall in one region.

/// Each 시·도 by its full name, with the short and former names addresses use for it.
const PROVINCES: &[(&str, &[&str])] = &[
    ("서울특별시", &["서울", "서울시"]),
    ("부산광역시", &["부산", "부산시"]),
    ("대구광역시", &["대구", "대구시"]),
    ("인천광역시", &["인천", "인천시"]),
    ("광주광역시", &["광주", "광주시"]),
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

/// The 시·도 without 시·군·구 below it: its region is the 시·도 alone.
const SINGLE_TIER: &str = "세종특별자치시";

/// The full name of a 시·도 given by its full, short or former name.
pub fn province(name: &str) -> Option<&'static str> {
    PROVINCES.iter().find(|(full, other)| *full == name || other.contains(&name)).map(|(full, _)| *full)
}

/// The region of an address: its 시·도 (normalised) and the 시·군·구 after it, or `None` when the
/// address does not start with a Korean 시·도 followed by a 시·군·구.
pub fn region_of(address: &str) -> Option<String> {
    let mut words = address.split_whitespace();
    let province = province(words.next()?)?;
    if province == SINGLE_TIER {
        return Some(province.to_owned());
    }
    let district = words.next()?;
    Some(format!("{province} {district}"))
}

/// A list's region filter as stored regions spell it: a 시·도 alone ("서울" → "서울특별시") or a
/// full region ("서울 강남구" → "서울특별시 강남구"). Anything else is kept as given (trimmed).
pub fn normalize_filter(filter: &str) -> String {
    let mut words = filter.split_whitespace();
    let first = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    match province(first) {
        Some(full) if rest.is_empty() => full.to_owned(),
        Some(full) => format!("{full} {}", rest.join(" ")),
        None => filter.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_the_province_and_district_with_short_names_made_full() {
        assert_eq!(region_of("서울특별시 영등포구 여의동로 343").as_deref(), Some("서울특별시 영등포구"));
        assert_eq!(region_of("서울 강남구 테헤란로 1").as_deref(), Some("서울특별시 강남구"));
        assert_eq!(region_of("경기 성남시 분당구 판교역로 1").as_deref(), Some("경기도 성남시"));
        assert_eq!(region_of("강원도 춘천시 중앙로 1").as_deref(), Some("강원특별자치도 춘천시"));
        assert_eq!(region_of("세종특별자치시 한누리대로 2130").as_deref(), Some("세종특별자치시"));
        assert_eq!(region_of("  부산   해운대구  ").as_deref(), Some("부산광역시 해운대구"));
    }

    #[test]
    fn an_address_without_a_korean_province_and_district_has_no_region() {
        assert_eq!(region_of(""), None);
        assert_eq!(region_of("서울특별시"), None);
        assert_eq!(region_of("1600 Amphitheatre Parkway"), None);
    }

    #[test]
    fn filters_are_spelled_like_stored_regions() {
        assert_eq!(normalize_filter("서울"), "서울특별시");
        assert_eq!(normalize_filter(" 서울  강남구 "), "서울특별시 강남구");
        assert_eq!(normalize_filter("경기도 성남시"), "경기도 성남시");
        assert_eq!(normalize_filter("어딘가"), "어딘가");
    }
}
