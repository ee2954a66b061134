"""The offers that can make a line's best N, found a quote at a time: no list of every offer.

A comparison that shows the best few offers a line (an award round's three, the route's
default) still scores and ranks every offer, but builds only those shown. Gathering each line's
offers from the quotes (a million offers for 1,000 suppliers and 1,000 lines) and scoring them
a line at a time cost more than pricing them; here the quotes are walked twice, each time a
column at a time in C (map), and nothing is kept per offer but what its quote already holds:

1. each line's lowest landed cost and days to arrival among its eligible offers (all of them
   when none is), gathered by ``min`` into a list by line;
2. each offer's standing in floats, as ``rules.quote_ranking`` scores it (the score x 100 plus
   a half, an ineligible offer ``_INELIGIBLE`` lower), against a floor by line that rises as
   better offers come: only those at or above it are kept, as candidates.

A line's floor stays ``_MARGIN`` below the N-th best standing kept so far: a float standing
is within 1 + 1e-9 of the exact one (``Ranker._scores`` rounds it, or Decimal does on a
boundary), so an offer below the floor stands at least a cent below N offers already kept and
cannot be among the best N, ties included. ``Ranker.rank`` then scores the candidates exactly
and ranks them against the line's own minima: the same best N, ranks and figures as ranking
every offer. ``caps`` widens N by the offers a line leaves out (``exclude``), so the shown N
are among the candidates whatever is skipped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from itertools import compress, repeat
from operator import add, ge, lt, not_, setitem, truediv
from typing import NamedTuple

from rules.quote_ranking import MAX_SCORE_CENTS, Offer, Quoted, Ranker
from rules.quotes_reference import MIN_DAYS_TO_ARRIVAL

_MARGIN = 3.0  # points x 100: a float standing is within 1 + 1e-9 of its exact one
_INELIGIBLE = float(MAX_SCORE_CENTS + 1)  # below every eligible standing, as Ranker ranks
_NONE = 1 << 100  # a line no quote offers: above every landed cost (under 2^76 cents)
# The day-points tables (``Ranker.day_points``: one a line's shortest days to arrival) are
# built only while they stay this small against the offers they serve.
_TABLE_ENTRIES_PER_OFFER = 2
_TABLE_ENTRIES_FREE = 10_000


class Shortlist(NamedTuple):
    """By RFQ line place: the candidates, and the line's minima the scores are taken against
    (``Ranker.rank``'s ``minima``: the lowest landed cost, the shortest days, at least 1)."""

    offers: list[list[Offer]]
    minima: list[tuple[int, int]]


def _lower(low: list[int], places: list[int], values: list[int]) -> None:
    """low[place] = min(low[place], value) for each pair, in C (a builtin ``min`` of two
    is slow in a map): a quote's places are distinct, so no pair reads what another writes."""
    lower = list(map(lt, values, map(low.__getitem__, places)))
    deque(map(setitem, repeat(low), compress(places, lower), compress(values, lower)), 0)


def _minima(quoted: Sequence[Quoted], lines: int) -> list[tuple[int, int]]:
    """Each line's lowest landed cost and shortest days to arrival (at least 1) among its
    eligible offers, or among all its offers when none is (``_NONE`` for a line not offered)."""
    landed_low, days_low = [_NONE] * lines, [_NONE] * lines
    for quote in quoted:
        if not quote.ok:
            continue
        places, landed, days = quote.places, quote.costs.landed, quote.days
        if not all(quote.eligible):
            eligible = quote.eligible
            places = list(compress(places, eligible))
            landed, days = list(compress(landed, eligible)), list(compress(days, eligible))
        _lower(landed_low, places, landed)
        _lower(days_low, places, days)
    if _NONE in landed_low:  # a line with no eligible offer, or none at all: among all
        everyone = [_NONE] * lines, [_NONE] * lines
        for quote in quoted:
            _lower(everyone[0], quote.places, quote.costs.landed)
            _lower(everyone[1], quote.places, quote.days)
        for place in range(lines):
            if landed_low[place] == _NONE:
                landed_low[place], days_low[place] = everyone[0][place], everyone[1][place]
    return [
        (landed, max(MIN_DAYS_TO_ARRIVAL, days))
        for landed, days in zip(landed_low, days_low, strict=True)
    ]


def shortlist(quoted: Sequence[Quoted], ranker: Ranker, caps: Sequence[int]) -> Shortlist | None:
    """The candidates for each line's best ``caps[place]`` (each at least 1), by place; None
    when the day-points tables would outgrow the offers (day counts past any validated lead
    and transit time): the caller ranks every offer instead."""
    lines = len(caps)
    minima = _minima(quoted, lines)
    offered_days: set[int] = set()
    for quote in quoted:
        offered_days.update(quote.days)
    shortest = {days for landed, days in minima if landed != _NONE}
    offers = sum(len(quote.places) for quote in quoted)
    if len(shortest) * len(offered_days) > _TABLE_ENTRIES_PER_OFFER * offers + _TABLE_ENTRIES_FREE:
        return None
    tables = {days: ranker.day_points(days, offered_days) for days in shortest}
    day_points = [tables.get(days, {}) for _, days in minima]  # {}: a line no quote offers
    # Usually every line's shortest is the same (a day or less): one table serves them all.
    only_table = next(iter(tables.values())) if len(tables) == 1 else None
    f_price = 100 * ranker.factors[0]
    lowest = [landed for landed, _ in minima]
    priced = [f_price * landed for landed in lowest]  # unused for lines with no offer
    floors = [-math.inf] * lines
    limits = [2 * cap + 8 for cap in caps]  # candidates kept before a line's floor is raised
    kept: list[list[tuple[float, int, int]]] = [[] for _ in range(lines)]
    for quote_no, quote in enumerate(quoted):
        places, landed, days = quote.places, quote.costs.landed, quote.days
        supplier_points = ranker.supplier_points[quote_no]
        positive = min(landed) > 0
        # The usual offer: eligible, so no cheaper than its line's lowest, whose price
        # component is the most there is; ineligible ones are redone below.
        prices = (
            map(truediv, map(priced.__getitem__, places), landed)
            if positive
            else map(
                _price,
                repeat(f_price),
                map(minima.__getitem__, places),
                map(priced.__getitem__, places),
                landed,
            )
        )
        lead = (
            map(only_table.__getitem__, days)
            if only_table is not None
            else map(dict.__getitem__, map(day_points.__getitem__, places), days)
        )
        standing = list(map(add, map(add, prices, lead), repeat(supplier_points)))
        if min(standing) < 0.0:
            for i in compress(range(len(places)), map(lt, standing, repeat(0.0))):
                standing[i] = 0.0  # below zero: the reference's max(0, ...)
        for i in compress(range(len(places)), map(not_, quote.eligible)):
            place = places[i]
            if landed[i] < lowest[place]:  # cheaper than the eligible: the price is capped
                points = f_price + day_points[place][days[i]] + supplier_points
                standing[i] = max(0.0, points) - _INELIGIBLE
            else:
                standing[i] -= _INELIGIBLE
        for i in compress(range(len(places)), map(ge, standing, map(floors.__getitem__, places))):
            place = places[i]
            line = kept[place]
            line.append((standing[i], quote_no, i))
            if len(line) > limits[place]:
                line.sort(reverse=True)
                floors[place] = floor = line[caps[place] - 1][0] - _MARGIN
                while line[-1][0] < floor:
                    line.pop()
                # Many offers within the margin of each other (equal prices): the limit grows
                # with them, so a line is sorted a logarithmic number of times.
                limits[place] = max(limits[place], 2 * len(line))
    return Shortlist(
        [
            [
                (
                    quoted[quote_no].costs.landed[i],
                    quoted[quote_no].days[i],
                    quoted[quote_no].eligible[i],
                    quote_no,
                    i,
                )
                for _, quote_no, i in line
            ]
            for line in kept
        ],
        minima,
    )


def _price(f_price: float, minima: tuple[int, int], priced: float, landed: int) -> float:
    """The price component's points x 100, capped: an ineligible offer may cost less than its
    line's lowest, and a landed cost of zero scores the whole component (as in Ranker)."""
    return f_price if landed <= minima[0] else priced / landed
