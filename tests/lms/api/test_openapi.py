"""The OpenAPI document and the docs page."""

import pytest


@pytest.mark.django_db
def test_openapi_document_lists_the_endpoints(api_client):
    response = api_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert "post" in paths["/api/v1/auth/token"]
    assert {"get", "patch"} <= set(paths["/api/v1/me"])
    assert "get" in paths["/api/v1/auth/tokens"]
    assert "delete" in paths["/api/v1/auth/tokens/{token_id}"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert any(s.get("in") == "cookie" for s in schemes.values())
    # The token endpoint takes no auth; /me takes either.
    assert not paths["/api/v1/auth/token"]["post"].get("security")
    assert len(paths["/api/v1/me"]["get"]["security"]) == 2


@pytest.mark.django_db
def test_openapi_token_request_schema_forbids_extra_fields(api_client):
    schema = api_client.get("/api/v1/openapi.json").json()
    body = schema["components"]["schemas"]["TokenCreateIn"]
    assert body["additionalProperties"] is False
    assert set(body["required"]) == {"email", "password"}


@pytest.mark.django_db
def test_docs_page_uses_our_static_files(api_client):
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html  # blocked by our Content-Security-Policy


@pytest.mark.django_db
def test_every_operation_documents_the_errors_the_api_root_gives(api_client):
    schema = api_client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"400", "404", "413", "422", "429"} <= documented, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= documented, (method, path)
            if "requestBody" in operation:
                assert "415" in documented, (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    error = schema["components"]["schemas"]["ApiError"]
    assert set(error["required"]) == {"detail", "code"}


@pytest.mark.django_db
def test_body_integers_are_documented_as_64_bit(api_client):
    schema = api_client.get("/api/v1/openapi.json").json()
    choice_ids = schema["components"]["schemas"]["ItemSaveIn"]["properties"]["choice_ids"]
    integer = next(o for o in choice_ids["anyOf"] if o.get("type") == "array")["items"]
    assert (integer["minimum"], integer["maximum"]) == (-(2**63), 2**63 - 1)
