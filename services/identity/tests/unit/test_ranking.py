import pytest

from icsuite_identity.domain.keys import account_keys, name_token_key
from icsuite_identity.domain.ranking import (
    Candidate,
    CriteriaError,
    SearchCriteria,
    page_after,
    rank,
    token_fraction,
)

pytestmark = pytest.mark.unit


def _candidate(account_id, *criteria, active=True):
    candidate = Candidate(account_id, active)
    for criterion in criteria:
        candidate.add(criterion)
    return candidate


def test_exact_identifiers_rank_before_phone_and_names():
    ranked = rank([_candidate("a-name", "name"), _candidate("a-phone", "phone"),
                   _candidate("a-id", "account_id"), _candidate("a-ba", "business_agreement_id"),
                   _candidate("a-premise", "premise_address"), _candidate("a-exact", "name_exact")])
    assert [c.account_id for c in ranked] == ["a-id", "a-ba", "a-phone", "a-exact", "a-premise", "a-name"]


def test_an_exact_identifier_outranks_any_combination_of_weaker_criteria():
    combined = _candidate("combined", "phone", "email", "name_exact")
    assert combined.score > _candidate("x", "account_id").score
    assert [c.account_id for c in rank([combined, _candidate("by-id", "account_id")])] == ["by-id", "combined"]


def test_matching_several_criteria_ranks_higher_and_a_criterion_counts_once():
    both = _candidate("b", "phone", "name", "phone")
    assert both.score == 600
    assert [c.account_id for c in rank([_candidate("a", "phone"), both])] == ["b", "a"]


def test_active_accounts_rank_first_among_equal_scores_then_by_id():
    ranked = rank([_candidate("c", "phone"), _candidate("a", "phone", active=False), _candidate("b", "phone")])
    assert [c.account_id for c in ranked] == ["b", "c", "a"]


def test_partial_names_score_by_the_share_of_query_words_found():
    keys = account_keys(phones_e164=[], emails=[], name="Erika Mustermann", postcode="10115")
    query = [name_token_key("10115", t) for t in ("erika", "musterfrau")]
    assert token_fraction(query, keys) == 0.5
    partial = Candidate("p")
    partial.add("name", 0.5)
    assert partial.score == 50


def test_pages_follow_each_other_without_gaps_or_repeats():
    ranked = rank([_candidate(f"acc-{i:02d}", "phone") for i in range(7)] + [_candidate("top", "account_id")])
    seen, position = [], None
    while True:
        items, position = page_after(ranked, position, 3)
        seen.extend(c.account_id for c in items)
        if position is None:
            break
    assert seen == [c.account_id for c in ranked]
    assert seen[0] == "top"


@pytest.mark.parametrize("criteria", [SearchCriteria(), SearchCriteria(postcode="10115"),
                                      SearchCriteria(name="Erika"), SearchCriteria(street="Hauptstr. 5")])
def test_a_search_needs_a_usable_criterion(criteria):
    with pytest.raises(CriteriaError):
        criteria.check()


def test_name_or_street_with_postcode_is_a_criterion():
    SearchCriteria(name="Erika", postcode="10115").check()
    SearchCriteria(street="Hauptstr. 5", postcode="10115").check()
