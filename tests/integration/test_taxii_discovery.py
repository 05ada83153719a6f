"""Discovery, API root, collections, authentication and content negotiation."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import taxii2client.v21 as taxii

from tests.utils.server import TAXII, Hub, start_hub


def test_discovery_lists_default_api_root(hub: Hub) -> None:
    member = hub.member()
    response = httpx.get(
        f"{hub.base_url}/taxii2/", auth=(member.name, member.token), headers={"Accept": TAXII}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert body["default"] == "/api1/"  # relative (TAXII 2.1 4.1.1), resolved by clients
    assert body["api_roots"] == ["/api1/"]
    assert urljoin(f"{hub.base_url}/taxii2/", body["default"]) == hub.api_root
    assert body["title"]


def test_discovery_does_not_echo_the_host_header(hub: Hub) -> None:
    """The Host header is the client's to choose; discovery must not repeat it as the
    place other clients (or a cache in front of the hub) should go."""
    member = hub.member()
    for host in ["evil.example", "evil.example:443", "127.0.0.1:1"]:
        response = httpx.get(
            f"{hub.base_url}/taxii2/",
            auth=(member.name, member.token),
            headers={"Accept": TAXII, "Host": host},
        )
        assert response.status_code == 200
        assert host not in response.text, response.text
        assert response.json()["api_roots"] == ["/api1/"]


def test_public_url_names_the_api_root() -> None:
    hub = start_hub("sqlite", None, public_url="https://hub.example.org/taxii")
    try:
        member = hub.member()
        response = httpx.get(
            f"{hub.base_url}/taxii2/",
            auth=(member.name, member.token),
            headers={"Accept": TAXII, "Host": "evil.example"},
        )
        expected = "https://hub.example.org/taxii/api1/"
        assert response.json()["default"] == expected
        assert response.json()["api_roots"] == [expected]
        server = taxii.Server(f"{hub.base_url}/taxii2/", user=member.name, password=member.token)
        assert server.default.url == expected
    finally:
        assert hub.thread is not None
        hub.thread.stop()
        hub.engine.dispose()


def test_api_root_information(hub: Hub) -> None:
    with hub.client(hub.member()) as client:
        body = client.get("").json()
    assert body["versions"] == [TAXII]
    assert body["max_content_length"] == hub.settings.max_content_length


def test_unknown_api_root_is_taxii_404(hub: Hub) -> None:
    member = hub.member()
    response = httpx.get(
        f"{hub.base_url}/nope/collections/",
        auth=(member.name, member.token),
        headers={"Accept": TAXII},
    )
    assert response.status_code == 404
    assert response.json()["title"] == "API root not found"


def test_missing_credentials_is_401_with_challenge(hub: Hub) -> None:
    response = httpx.get(f"{hub.base_url}/taxii2/", headers={"Accept": TAXII})
    assert response.status_code == 401
    assert "Basic" in response.headers["www-authenticate"]
    assert "Bearer" in response.headers["www-authenticate"]
    body = response.json()
    assert body["title"] and body["http_status"] == "401"


def test_wrong_token_and_wrong_name_are_401(hub: Hub) -> None:
    member, other = hub.member(), hub.member()
    for auth in [(member.name, "wrong"), (other.name, member.token), ("nobody", member.token)]:
        response = httpx.get(f"{hub.api_root}collections/", auth=auth, headers={"Accept": TAXII})
        assert response.status_code == 401, auth


def test_bearer_token_authenticates(hub: Hub) -> None:
    member = hub.member()
    response = httpx.get(
        f"{hub.api_root}collections/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {member.token}"},
    )
    assert response.status_code == 200
    assert any(c["alias"] == "submissions" for c in response.json()["collections"])


def test_malformed_basic_header_is_401_not_500(hub: Hub) -> None:
    response = httpx.get(
        f"{hub.api_root}collections/",
        headers={"Accept": TAXII, "Authorization": "Basic !!!not-base64"},
    )
    assert response.status_code == 401


def test_collections_show_rights_and_hide_inaccessible(hub: Hub) -> None:
    admin_only = hub.collection(read_roles=[], write_roles=[])
    read_only = hub.collection(read_roles=["member"], write_roles=[])
    with hub.client(hub.member()) as client:
        collections = {c["id"]: c for c in client.get("collections/").json()["collections"]}
    assert admin_only not in collections
    assert collections[read_only]["can_read"] is True
    assert collections[read_only]["can_write"] is False
    submissions = next(c for c in collections.values() if c.get("alias") == "submissions")
    assert submissions["can_write"] is True
    assert submissions["media_types"] == ["application/stix+json;version=2.1"]
    with hub.client(hub.member(role="admin")) as client:
        ids = {c["id"] for c in client.get("collections/").json()["collections"]}
    assert admin_only in ids


def test_collection_by_id_and_alias(hub: Hub) -> None:
    collection_id = hub.collection()
    with hub.client(hub.member()) as client:
        by_id = client.get(f"collections/{collection_id}/").json()
        by_alias = client.get(f"collections/{by_id['alias']}/").json()
        missing = client.get("collections/does-not-exist/")
    assert by_id == by_alias
    assert by_id["id"] == collection_id
    assert missing.status_code == 404
    assert missing.json()["title"] == "Collection not found"


def test_forbidden_collection_is_403(hub: Hub) -> None:
    admin_only = hub.collection(read_roles=[], write_roles=[])
    with hub.client(hub.member()) as client:
        assert client.get(f"collections/{admin_only}/").status_code == 403
        assert client.get(f"collections/{admin_only}/objects/").status_code == 403
        assert client.get(f"collections/{admin_only}/manifest/").status_code == 403
        response = client.post(
            f"collections/{admin_only}/objects/",
            content=b'{"objects": []}',
            headers={"Content-Type": TAXII},
        )
    assert response.status_code == 403
    assert response.json()["title"] == "Forbidden"


def test_read_only_collection_refuses_writes(hub: Hub) -> None:
    read_only = hub.collection(write_roles=[])
    with hub.client(hub.member()) as client:
        response = client.post(
            f"collections/{read_only}/objects/",
            content=b'{"objects": []}',
            headers={"Content-Type": TAXII},
        )
    assert response.status_code == 403


def test_not_acceptable_is_406(hub: Hub) -> None:
    with hub.client(hub.member(), headers={"Accept": "application/json"}) as client:
        response = client.get("collections/")
    assert response.status_code == 406
    assert response.json()["title"] == "Not acceptable"
    with hub.client(hub.member(), headers={"Accept": "application/taxii+json;version=2.0"}) as c:
        assert c.get("collections/").status_code == 406


def test_accept_variants_that_are_fine(hub: Hub) -> None:
    for accept in ["application/taxii+json", "*/*", "application/json, application/taxii+json"]:
        with hub.client(hub.member(), headers={"Accept": accept}) as client:
            assert client.get("collections/").status_code == 200, accept


def test_wrong_content_type_is_415(hub: Hub) -> None:
    with hub.client(hub.member()) as client:
        response = client.post(
            "collections/submissions/objects/",
            content=b'{"objects": []}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 415
    assert response.json()["title"] == "Unsupported media type"


def test_unknown_path_and_method_get_taxii_errors(hub: Hub) -> None:
    with hub.client(hub.member()) as client:
        response = client.put("collections/submissions/objects/", content=b"{}")
    assert response.status_code == 405
    assert response.json()["title"] == "Method not allowed"
