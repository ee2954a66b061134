"""Why a product matched: each query word's field and kind, and pg_trgm's word similarity."""

from __future__ import annotations

import pytest

from rules.search_explain import FieldMatch, explain, word_similarity
from rules.search_text import MatchKind, parse_query

FIELDS = {
    "name": "螺丝起子 一字 5.0毫米",
    "brand": "世达",
    "model": "SATA-09312",
    "attributes.length": "100mm",
}


def test_each_word_names_its_field_and_kind() -> None:
    query = parse_query("螺丝刀 100毫米 sata09312 sd 0931", [["螺丝刀", "螺丝起子"]])
    assert explain(query, FIELDS) == [
        FieldMatch("螺丝刀", "name", MatchKind.SYNONYM, "螺丝起子"),
        FieldMatch("100mm", "attributes.length", MatchKind.EXACT, "100mm"),
        FieldMatch("sata09312", "model", MatchKind.EXACT, "sata09312"),
        FieldMatch("sd", "brand", MatchKind.PINYIN, "sd"),
        FieldMatch("0931", "model", MatchKind.SUBSTRING, "09312"),
    ]


def test_a_bare_number_names_the_size_it_was_read_as() -> None:
    assert explain(parse_query("100", []), FIELDS) == [
        FieldMatch("100", "attributes.length", MatchKind.QUANTITY, "100mm")
    ]


def test_a_size_is_part_of_a_model_number_not_of_another_size() -> None:
    fields = {"model": "GSR120-LI", "attributes.capacity": "1120l"}
    assert explain(parse_query("120L", []), fields) == [
        FieldMatch("120l", "model", MatchKind.SUBSTRING, "gsr120li")
    ]


def test_a_misspelling_names_the_nearest_word() -> None:
    (match,) = explain(parse_query("screwdrier", []), {"name": "Precision screwdriver set"})
    assert (match.field, match.kind, match.matched) == ("name", MatchKind.FUZZY, "screwdriver")
    # 9 trigrams shared of 14 in all ("  s", " sc", ..., "dri" shared; "rie", "ier", "er "
    # against "riv", "ive", "ver", "er ").
    assert match.similarity == round(9 / 14, 3)


def test_a_mistyped_chinese_word_names_the_run_holding_its_pairs() -> None:
    # 螺丝到 (到 for its homophone 刀): 螺丝 of its pairs 螺丝 and 丝到, in the name's 螺丝起子.
    assert explain(parse_query("螺丝到", []), FIELDS) == [
        FieldMatch("螺丝到", "name", MatchKind.FUZZY, "螺丝起子", 0.5)
    ]


def test_a_mistyped_chinese_words_pairs_are_named_in_every_field_holding_one() -> None:
    # 丙酮清洗济: 丙酮 in the brand, 清洗 in the name (of 丙酮, 酮清, 清洗 and 洗济); a pair met
    # only in the compacted model (电钻 of 电-钻) names the field's text.
    fields = {"name": "清洗剂", "brand": "丙酮", "model": "电-钻"}
    assert explain(parse_query("丙酮清洗济", []), fields) == [
        FieldMatch("丙酮清洗济", "name", MatchKind.FUZZY, "清洗剂", 0.25),
        FieldMatch("丙酮清洗济", "brand", MatchKind.FUZZY, "丙酮", 0.25),
    ]
    (model,) = explain(parse_query("电钻头", []), fields)
    assert (model.field, model.matched) == ("model", "电 钻")


def test_a_word_met_nowhere_is_absent() -> None:
    assert explain(parse_query("扳手 qqqzzz", []), FIELDS) == []


@pytest.mark.parametrize(
    ("a", "b", "similarity"),
    [("word", "word", 1.0), ("stanly", "stanley", 5 / 10), ("abc", "xyz", 0.0)],
)
def test_word_similarity_is_pg_trgms(a: str, b: str, similarity: float) -> None:
    # stanly: "  s", " st", sta, tan, anl, nly, "ly "; stanley: "  s", " st", sta, tan, anl,
    # nle, ley, "ey ": 5 shared of 10.
    assert word_similarity(a, b) == pytest.approx(similarity)
