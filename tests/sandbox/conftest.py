import pytest

# Tests that talk to the emulators over real HTTP need both databases and a live server.
sandbox_db = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def sandbox_url(live_server) -> str:
    """Base URL of the sandbox emulators on pytest-django's live server."""
    return f"{live_server.url}/sandbox"
