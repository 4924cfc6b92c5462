"""Helpers shared by the API tests."""


def csrf_token_for(client) -> str:
    """Load a page that renders a CSRF token (the API docs) and return the cookie's value."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    return client.cookies["csrftoken"].value


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body
