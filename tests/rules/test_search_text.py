"""Catalogue search text: normal form, index columns and query groups, worked by hand."""

# Full-width letters and digits, and the multiplication sign, are the point here.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import pytest

from rules.search_text import (
    PINYIN_PREFIX,
    SEARCH_UNITS,
    Alternative,
    MatchKind,
    bigrams,
    compact,
    index_fields,
    is_quantity,
    normalise,
    parse_query,
    pinyin_initials,
)

SYNONYMS = [["螺丝刀", "螺丝起子", "改锥"], ["screwdriver", "screw driver"]]


# The issue's own examples first: 5mm, 5.0mm, 5 mm and 5毫米 match; full-width and half-width,
# case and spacing ignored.
@pytest.mark.parametrize(
    "written",
    [
        "5mm",
        "5.0mm",
        "5 mm",
        "5毫米",
        "５ｍｍ",
        "５ＭＭ",
        "5.00 MM",
        "05mm",
        "5  公厘",
        "5.0\u3000毫米",
    ],
)
def test_sizes_written_any_way_are_one_token(written: str) -> None:
    assert normalise(written) == "5mm"


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("2.5平方 电缆", "2.5mm2 电缆"),
        ("2.5mm² 电缆", "2.5mm2 电缆"),
        ("2-8℃ 冷藏", "2 8c 冷藏"),
        ("500毫升", "500ml"),
        ("1.5千克", "1.5kg"),
        ("3 公斤", "3kg"),
        ("12V 2.0Ah", "12v 2ah"),
        ("M5 2.0x", "m5 2 x"),  # a decimal ends where its digits do
        ("220伏 1000瓦", "220v 1000w"),
        ("10安", "10a"),
        ("55吋", "55in"),
    ],
)
def test_units_have_one_canonical_name(written: str, normal: str) -> None:
    assert normalise(written) == normal


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        # Punctuation, Latin and CJK, separates; case folds; spacing collapses.
        ("十字螺丝刀（PH2）", "十字螺丝刀 ph2"),
        ("博世，GSR120-LI。", "博世 gsr120 li"),
        ("  Bosch   GSR  ", "bosch gsr"),
        ("【现货】扳手/套筒", "现货 扳手 套筒"),
        # Dimensions: x, × and * between numbers read alike.
        ("M5×20", "m5 x 20"),
        ("M5*20", "m5 x 20"),
        ("m5 x 20", "m5 x 20"),
        # A unit must end its word: these are model numbers, not sizes.
        ("DCD-771C2", "dcd 771c2"),
        ("5mmx", "5mmx"),
        # A bare number keeps its leading zeros (part numbers mean them); a decimal is canonical.
        ("SATA-09312", "sata 09312"),
        ("5.0", "5"),
        ("v2.0.1", "v2.0.1"),
        # Latin and CJK runs are separate tokens.
        ("PVC管", "pvc 管"),
    ],
)
def test_normal_form(written: str, normal: str) -> None:
    assert normalise(written) == normal


@pytest.mark.parametrize(
    "written", ["十字螺丝刀（PH2）５ｍｍ", "M5×20 2.5平方", "Bosch 博世 GSR120-Li"]
)
def test_normalising_twice_changes_nothing(written: str) -> None:
    assert normalise(normalise(written)) == normalise(written)


def test_cjk_runs_are_segmented_by_bigrams_and_characters() -> None:
    assert bigrams("螺丝刀") == ["螺丝", "丝刀", "螺", "丝", "刀"]
    assert bigrams("刀") == ["刀"]


def test_pinyin_initials_read_characters_by_their_phrase() -> None:
    assert pinyin_initials("螺丝刀") == "lsd"
    assert pinyin_initials("重庆") == "cq"  # 重 is chóng here, not zhòng


def test_model_without_separators() -> None:
    assert compact("DCD-771 C2") == "dcd771c2"
    assert compact("ＳＡＴＡ－０９３１２") == "sata09312"


def test_index_fields() -> None:
    search_text, terms = index_fields(
        "十字螺丝刀 PH2 5.0mm",
        "世达",
        "SATA-09312",
        {"length": "100", "material": "不锈钢"},
        units={"length": "mm"},
    )
    assert search_text == "十字螺丝刀 ph2 5mm 世达 sata 09312 sata09312 100mm 不锈钢 szlsd sd"
    assert terms == sorted(terms)
    # Words, sizes (an attribute's bare number in its unit), the model with and without
    # separators, bigrams and characters of every CJK run, the pinyin initials apart.
    for term in ["ph2", "5mm", "100mm", "sata", "09312", "sata09312"]:
        assert term in terms
    for term in ["十字", "字螺", "螺丝", "丝刀", "刀", "世达", "不锈", "锈钢"]:
        assert term in terms
    assert {PINYIN_PREFIX + "szlsd", PINYIN_PREFIX + "sd"} <= set(terms)
    assert "szlsd" not in terms  # a Latin word szlsd is not the pinyin szlsd


def test_an_attribute_that_is_not_a_bare_number_keeps_its_text() -> None:
    _, terms = index_fields("扳手", "", "", {"size": "M5"}, units={"size": "mm"})
    assert "m5" in terms and "m5mm" not in terms


def test_a_word_is_found_inside_a_chinese_name() -> None:
    _, terms = index_fields("进口十字螺丝刀套装", "", "", {})
    query = parse_query("螺丝刀", [])
    assert query.groups[0].alternatives[0].terms <= set(terms)


def test_query_groups_are_the_words_typed() -> None:
    query = parse_query("Bosch 5.0 MM 电钻", [])
    assert query.text == "bosch 5mm 电钻"
    assert [group.text for group in query.groups] == ["bosch", "5mm", "电钻"]
    bosch, size, drill = query.groups
    assert [a.kind for a in bosch.alternatives] == [MatchKind.EXACT, MatchKind.PINYIN]
    assert bosch.alternatives[1].terms == {PINYIN_PREFIX + "bosch"}
    assert [a.terms for a in size.alternatives] == [{"5mm"}]
    # A run's bigrams imply its characters: only they are asked of the index.
    assert drill.alternatives[0].terms == {"电钻"}
    assert parse_query("电", []).groups[0].alternatives[0].terms == {"电"}
    assert not drill.latin and size.latin


def test_a_size_parted_by_a_slip_is_one_word_in_a_query_only() -> None:
    assert [g.text for g in parse_query("5.mm 螺丝刀", []).groups] == ["5mm", "螺丝刀"]
    assert [g.text for g in parse_query("05,毫米", []).groups] == ["5mm"]
    # Only a point or comma: 3-in-1 keeps its words (in is a unit too), as its product's text.
    assert [g.text for g in parse_query("3-in-1 螺丝刀", []).groups] == ["3", "in", "1", "螺丝刀"]
    # A product's text splits as before: its terms were indexed so (and "5. A grade" is no 5a).
    assert normalise("5.mm") == "5 mm" and normalise("Size 5. A grade") == "size 5 a grade"


def test_a_bare_number_is_read_as_a_size_in_any_unit() -> None:
    """300 is part of a model number, or 300 of some unit typed without it; a size typed with
    its unit is only itself."""
    (group,) = parse_query("0300", []).groups
    assert group.alternatives[0] == Alternative("0300", frozenset({"0300"}), MatchKind.EXACT)
    sizes = {a.text for a in group.alternatives if a.kind is MatchKind.QUANTITY}
    assert {"300mm", "300ml", "300kg", "300mm2"} <= sizes
    assert len(sizes) == len(set(SEARCH_UNITS.values()))
    _, terms = index_fields("活动扳手 300毫米", "", "", {})
    assert [a.text for a in group.alternatives if a.terms <= set(terms)] == ["300mm"]
    assert [a.kind for a in parse_query("300mm", []).groups[0].alternatives] == [MatchKind.EXACT]
    assert is_quantity("300mm") and is_quantity("2.5mm2") and is_quantity("3m")
    assert not is_quantity("300") and not is_quantity("5mmx") and not is_quantity("mm")


def test_a_synonym_is_an_alternative_of_its_word() -> None:
    query = parse_query("螺丝刀", SYNONYMS)
    (group,) = query.groups
    assert [(a.text, a.kind) for a in group.alternatives] == [
        ("螺丝刀", MatchKind.EXACT),
        ("改锥", MatchKind.SYNONYM),
        ("螺丝起子", MatchKind.SYNONYM),
    ]
    # 螺丝刀 finds 螺丝起子: the synonym's terms are a product's.
    _, terms = index_fields("螺丝起子 十字", "", "", {})
    assert group.alternatives[2].terms <= set(terms)
    assert not group.alternatives[0].terms <= set(terms)


def test_a_synonym_inside_a_chinese_run_segments_the_query() -> None:
    query = parse_query("不锈钢螺丝起子５ｍｍ", SYNONYMS)
    assert [group.text for group in query.groups] == ["不锈钢", "螺丝起子", "5mm"]
    assert [a.text for a in query.groups[1].alternatives] == ["螺丝起子", "改锥", "螺丝刀"]
    # Segmented, the query finds the words in another order (no bigram 钢螺 is required).
    _, terms = index_fields("螺丝刀 不锈钢 5mm", "", "", {})
    assert all(any(a.terms <= set(terms) for a in g.alternatives) for g in query.groups)


def test_a_latin_synonym_phrase_is_whole_words() -> None:
    query = parse_query("Screw Driver set", SYNONYMS)
    assert [group.text for group in query.groups] == ["screw driver", "set"]
    assert [a.terms for a in query.groups[0].alternatives] == [
        {"screw", "driver"},
        {"screwdriver"},
    ]
    assert [g.text for g in parse_query("screwdrivers", SYNONYMS).groups] == ["screwdrivers"]


def test_synonym_groups_sharing_a_phrase_join() -> None:
    query = parse_query("改锥", [["螺丝刀", "改锥"], ["改锥", "起子"]])
    assert [a.text for a in query.groups[0].alternatives] == ["改锥", "螺丝刀", "起子"]


def test_a_word_typed_twice_is_one_group() -> None:
    assert [g.text for g in parse_query("5mm 5毫米 扳手", []).groups] == ["5mm", "扳手"]


def test_an_empty_query_has_no_groups() -> None:
    assert parse_query(" ，。 ", SYNONYMS).groups == ()
