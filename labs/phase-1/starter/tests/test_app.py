"""Unit tests for app.py. They belong to the source tree, not to the image."""
from app import app


def test_healthz():
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_index_hides_the_secret(monkeypatch):
    monkeypatch.setenv("APP_SECRET", "s3cr3t-value")
    body = app.test_client().get("/").get_data(as_text=True)
    assert "s3cr3t-value" not in body
    assert '"secret_configured":true' in body.replace(" ", "")
