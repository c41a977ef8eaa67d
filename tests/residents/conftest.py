import pytest

from residents.models import Dictionary, KeyGroup, KeyGroupGrant
from residents.seed import seed_residents


@pytest.fixture(autouse=True)
def residents_seeded(db):
    """The code lists and groups the migration seeds (a transactional test may flush them)."""
    if not KeyGroup.objects.exists():
        seed_residents(Dictionary, KeyGroup, KeyGroupGrant)
