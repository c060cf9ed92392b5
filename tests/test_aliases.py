"""Aliases: created, switched, renamed and deleted atomically; usable wherever a collection name
is; kept across restarts; gone with their collection."""

from __future__ import annotations

import pytest
from qdrant_client import models

from conftest import make_client
from rest_http import call

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]


def _collection(client, name: str, value: float) -> None:
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=1, vector=[value, 0.0], payload={"from": name})])


def _pairs(answer) -> list[tuple[str, str]]:
    return sorted((a.alias_name, a.collection_name) for a in answer.aliases)


@pytest.mark.parametrize("grpc_door", DOORS)
def test_alias_lifecycle_and_use_as_a_collection_name(server_factory, grpc_door):
    server = server_factory().start()
    client = make_client(server, prefer_grpc=grpc_door)
    _collection(client, "v1", 1.0)
    _collection(client, "v2", 2.0)
    assert client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="v1", alias_name="prod"))])
    assert _pairs(client.get_aliases()) == [("prod", "v1")]
    assert _pairs(client.get_collection_aliases("v1")) == [("prod", "v1")]
    assert client.get_collection_aliases("v2").aliases == []
    assert client.collection_exists("prod")

    # Reads and writes through the alias reach the collection.
    (point,) = client.retrieve("prod", ids=[1])
    assert point.payload == {"from": "v1"}
    client.upsert("prod", points=[models.PointStruct(id=2, vector=[0.5, 0.5])])
    assert client.count("v1").count == 2
    assert client.get_collection("prod").points_count == 2
    assert client.query_points("prod", query=[1.0, 0.0], limit=1).points[0].id == 1

    # Switch in one request: delete + create applies together.
    client.update_collection_aliases(change_aliases_operations=[
        models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name="prod")),
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="v2", alias_name="prod")),
    ])
    (point,) = client.retrieve("prod", ids=[1])
    assert point.payload == {"from": "v2"}

    client.update_collection_aliases(change_aliases_operations=[
        models.RenameAliasOperation(rename_alias=models.RenameAlias(old_alias_name="prod", new_alias_name="live"))])
    assert _pairs(client.get_aliases()) == [("live", "v2")]
    client.close()
    server.stop()

    restarted = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(restarted, prefer_grpc=grpc_door)
    assert _pairs(client.get_aliases()) == [("live", "v2")]
    assert client.count("live").count == 1
    client.delete_collection("v2")
    assert client.get_aliases().aliases == []
    assert not client.collection_exists("live")
    client.close()
    restarted.stop()


def test_a_failing_action_changes_nothing(shared_server):
    client = make_client(shared_server)
    _collection(client, "atomic_a", 1.0)
    client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="atomic_a", alias_name="keep"))])
    body = {"actions": [
        {"create_alias": {"collection_name": "atomic_a", "alias_name": "new_one"}},
        {"delete_alias": {"alias_name": "keep"}},
        {"rename_alias": {"old_alias_name": "no_such_alias", "new_alias_name": "x"}},
    ]}
    status, _, answer = call(shared_server.http_port, "POST", "/collections/aliases", body)
    assert status == 404 and "Alias `no_such_alias` doesn't exist" in answer["status"]["error"]
    assert ("keep", "atomic_a") in _pairs(client.get_aliases())
    assert "new_one" not in [a for a, _ in _pairs(client.get_aliases())]
    client.close()


@pytest.mark.parametrize("action, status, message", [
    ({"create_alias": {"collection_name": "missing_coll", "alias_name": "a1"}}, 404,
     "Collection `missing_coll` doesn't exist"),
    ({"create_alias": {"collection_name": "conflict_a", "alias_name": "conflict_a"}}, 409, "already exists"),
    ({"delete_alias": {"alias_name": "never_made"}}, 404, "Alias `never_made` doesn't exist"),
    ({"create_alias": {"collection_name": "conflict_a", "alias_name": "bad/name"}}, 400, "alias_name is not valid"),
    ({"make_alias": {}}, 400, "unknown field `make_alias`"),
])
def test_bad_alias_actions_get_clear_statuses(shared_server, action, status, message):
    call(shared_server.http_port, "PUT", "/collections/conflict_a", {"vectors": {"size": 2, "distance": "Dot"}})
    got, _, answer = call(shared_server.http_port, "POST", "/collections/aliases", {"actions": [action]})
    assert got == status, answer
    assert message in answer["status"]["error"]


def test_a_collection_cannot_take_an_alias_name(shared_server):
    client = make_client(shared_server)
    _collection(client, "owner", 1.0)
    client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="owner", alias_name="taken"))])
    status, _, answer = call(shared_server.http_port, "PUT", "/collections/taken",
                             {"vectors": {"size": 2, "distance": "Dot"}})
    assert status == 409 and "already an alias" in answer["status"]["error"]
    client.close()


def test_the_number_of_actions_in_one_request_is_bounded(server_factory):
    server = server_factory(env={"VECINFER_MAX_POINTS_PER_REQUEST": "2"}).start()
    actions = [{"delete_alias": {"alias_name": f"a{i}"}} for i in range(3)]
    status, _, body = call(server.http_port, "POST", "/collections/aliases", {"actions": actions})
    assert status == 422 and "actions" in body["status"]["error"], body
