"""Statistics computed from counts instead of one entry per case must be exactly those of the case-by-case
definitions: the repeated-requests groups, formed once per distinct bigram set, are those of comparing every pair of
texts (sharing a bigram found in 2 … max(10, 5 %) of the texts, Dice ≥ threshold); the median and mean days to
reply are `statistics.median` and `statistics.fmean` of the list.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from engine.services.statistics import _content_bigrams, _similar_groups

WORDS = ("房屋征收补偿方案", "老旧小区改造批复", "道路拓宽环评报告", "学区划分调整", "保障性住房分配名单", "幸福路",
         "2024年", "第三期", "东城区", "会议纪要", "预算执行", "地铁3号线")


def _pairwise_groups(texts: list[frozenset[str]], threshold: float) -> set[frozenset[int]]:
    ceiling = max(10, len(texts) // 20)
    frequency: dict[str, int] = defaultdict(int)
    for grams in texts:
        for gram in grams:
            frequency[gram] += 1
    parent = list(range(len(texts)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for a in range(len(texts)):
        for b in range(a + 1, len(texts)):
            ga, gb = texts[a], texts[b]
            shared = [g for g in ga & gb if 2 <= frequency[g] <= ceiling]
            if shared and 2 * len(ga & gb) / (len(ga) + len(gb)) >= threshold:
                parent[root(b)] = root(a)
    return _partition(root, len(texts))


def _partition(group_of, n: int) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = defaultdict(set)
    for i in range(n):
        groups[group_of(i)].add(i)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.4, 0.6, 0.9, 1.0])
def test_the_groups_are_those_of_comparing_every_pair(seed, threshold):
    rng = random.Random(seed)
    # Few distinct texts, many repeated (as people ask), some words common to nearly all (over the ceiling).
    distinct = ["关于" + "".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(rng.randint(5, 40))]
    texts = [_content_bigrams(rng.choice(distinct) + ("东城区" if rng.random() < 0.9 else ""))
             for _ in range(rng.randint(20, 300))]
    texts = [t for t in texts if len(t) >= 2]
    assert _partition(_similar_groups(texts, threshold), len(texts)) == _pairwise_groups(texts, threshold)


@pytest.mark.parametrize("seed", range(20))
def test_median_and_mean_of_counted_days_are_those_of_the_list(seed):
    import statistics
    from collections import Counter

    from engine.services.statistics import _mean, _median

    rng = random.Random(seed)
    days = [rng.choice((0, 1, 3, 5, 19, 20, 21, 44, 120)) for _ in range(rng.randint(1, 60))]
    assert _median(Counter(days)) == statistics.median(days)
    assert type(_median(Counter(days))) is type(statistics.median(days))
    assert _mean(Counter(days)) == statistics.fmean(days)
