"""References are checked before anything is sent: address syntax, each provider's id form, odd values."""

from __future__ import annotations

import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact import create_app as create_cc
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_gr

from gateway.core.model import Provider
from gateway.core.ports import Target
from gateway.core.references import address_problem, contact_id_problem, reference_problem
from gateway.providers.constant_contact.adapter import ConstantContactAdapter
from gateway.providers.getresponse.adapter import GetResponseAdapter

CC_FORM = ConstantContactAdapter.contact_id_form
GR_FORM = GetResponseAdapter.contact_id_form
FORMS = {Provider.CONSTANT_CONTACT: CC_FORM, Provider.GETRESPONSE: GR_FORM}


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.com",
        "Ann.Smith+promo@Mail.Example.CO.UK",
        "o'brien@example.ie",
        "a_b-c@sub-domain.example.org",
        "jörg@bücher.example",
        f"{'a' * 64}@{'b' * 63}.com",
    ],
)
def test_addresses_that_are_accepted(email: str) -> None:
    assert address_problem(email) is None


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ann", "not a valid"),
        ("ann@", "not a valid"),
        ("@example.com", "not a valid"),
        ("ann@example", "not a valid"),
        ("ann@@example.com", "not a valid"),
        ("ann smith@example.com", "not a valid"),
        (" ann@example.com", "not a valid"),
        ("ann@example.com\n", "not a valid"),
        ("ann@exa_mple.com", "not a valid"),
        ("ann..smith@example.com", "not a valid"),
        (".ann@example.com", "not a valid"),
        ("ann@-example.com", "not a valid"),
        ("ann@example..com", "not a valid"),
        ("%@%", "not a valid"),
        (f"{'a' * 65}@example.com", "not a valid"),
        (f"ann@{'b' * 64}.com", "not a valid"),
        (f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com", "at most 254"),
    ],
)
def test_addresses_that_are_refused(email: str, why: str) -> None:
    problem = address_problem(email)
    assert problem is not None and why in problem


def test_a_refusal_never_echoes_a_long_input() -> None:
    problem = address_problem("x" * 10_000 + "@")
    assert problem is not None and len(problem) < 200


@pytest.mark.parametrize(
    "odd", ["", " ", "\t", ".", "..", "a/b", "a\\b", "a?b", "a#b", "a%2Fb", "a b", "a\x00"]
)
@pytest.mark.parametrize("form", [CC_FORM, GR_FORM])
def test_empty_dot_and_path_ids_are_refused_at_every_provider(odd: str, form: object) -> None:
    assert contact_id_problem(odd, form) is not None  # type: ignore[arg-type]


def test_each_provider_has_its_own_id_form() -> None:
    uuid = "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a"
    assert contact_id_problem(uuid, CC_FORM) is None
    assert contact_id_problem(uuid.upper(), CC_FORM) is None
    assert contact_id_problem("4b1b5", CC_FORM) is not None
    assert contact_id_problem(uuid + "0", CC_FORM) is not None
    assert contact_id_problem("4b1b5", GR_FORM) is None
    assert contact_id_problem("ZyX", GR_FORM) is None
    assert contact_id_problem(uuid, GR_FORM) is not None
    assert contact_id_problem("a" * 33, GR_FORM) is not None


def test_a_reference_names_one_contact_by_id_or_address() -> None:
    assert reference_problem(Target(0, Provider.GETRESPONSE, contact_id="4b1b5"), FORMS) is None
    assert reference_problem(Target(0, Provider.GETRESPONSE, email="a@b.co"), FORMS) is None
    both = Target(0, Provider.GETRESPONSE, contact_id="4b1b5", email="a@b.co")
    assert reference_problem(both, FORMS) is not None
    assert reference_problem(Target(0, Provider.GETRESPONSE), FORMS) is not None
    assert reference_problem(Target(0, Provider.CONSTANT_CONTACT, contact_id="4b1b5"), FORMS) is not None


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_every_seeded_contact_can_be_named(seed: int) -> None:
    """The validator accepts every address and id the emulators (built like real accounts) hold."""
    cc = create_cc(ConstantContactEmulatorSettings(seed=seed, contacts=600)).state.store
    gr = create_gr(GetResponseEmulatorSettings(seed=seed, contacts=600)).state.store
    for contact in cc.contacts:
        assert contact_id_problem(contact.contact_id, CC_FORM) is None
        if contact.email is not None:
            assert address_problem(contact.email.address) is None, contact.email.address
    for contact_id, contact in gr.contacts.items():
        assert contact_id_problem(contact_id, GR_FORM) is None
        assert address_problem(contact.email) is None, contact.email
    for removal in gr.deletions:
        assert contact_id_problem(removal.contact_id, GR_FORM) is None
        assert address_problem(removal.email) is None, removal.email
