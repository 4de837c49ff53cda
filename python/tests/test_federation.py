"""A secretless agent through the Python SDK against a real control plane, on PGlite and PostgreSQL:
created with a federated credential (inline keys: no issuer to reach), authenticated from a
platform token file that is rewritten between requests."""
from __future__ import annotations

import time
import uuid

import pytest

from certusordo import AgentCredentials, AuthenticationError, ConflictError, generate_agent_key_pair, verify_access_token
from certusordo.auth.keys import sign_jwt

CLUSTER = "https://kubernetes.default.svc.cluster.local"
SA = "system:serviceaccount:payments:deployer"


def test_secretless_agent_from_a_rotating_token_file(client, server, unique, tmp_path):
    pair = generate_agent_key_pair()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": pair.public_key, "kid": pair.kid, "alg": "EdDSA", "use": "sig"}
    agent = client.agents.create(
        name=unique("secretless"), scopes=["deploy:write"],
        federated_credentials=[{"issuer": CLUSTER, "subject": SA, "jwks": {"keys": [jwk]}}],
    )
    assert agent.public_key is None and agent.secret is None
    assert client.agents.keys.list(agent.id) == []
    [credential] = client.agents.federated_credentials.list(agent.id)
    audience = server.issuer(server.tests)
    assert (credential.issuer, credential.subject, credential.audience, credential.status) == (CLUSTER, SA, audience, "active")

    token_file = tmp_path / "token"

    def rotate() -> None:
        now = int(time.time())
        claims = {"iss": CLUSTER, "sub": SA, "aud": [audience], "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())}
        token_file.write_text(sign_jwt({"alg": "EdDSA", "typ": "JWT", "kid": pair.kid}, claims, pair.private_key) + "\n")

    rotate()
    creds = AgentCredentials.from_token_file(agent.id, str(token_file), base_url=server.url)
    token = creds.get_token()
    assert verify_access_token(token, issuer=audience).sub == agent.id

    # Read again for every token request: a broken file fails, the rotated one works.
    token_file.write_text("not-a-token")
    with pytest.raises(AuthenticationError):
        creds.get_token(force_refresh=True)
    rotate()
    assert creds.get_token(force_refresh=True) != token
    with pytest.raises(TypeError):
        creds.kid

    with pytest.raises(ConflictError):
        client.agents.federated_credentials.revoke(agent.id, credential.id)
    other = client.agents.federated_credentials.create(agent.id, issuer=CLUSTER, subject="system:serviceaccount:payments:other", jwks={"keys": [jwk]})
    assert client.agents.federated_credentials.revoke(agent.id, credential.id).status == "revoked"
    assert [(c.id, c.status) for c in client.agents.federated_credentials.list(agent.id)] == [(credential.id, "revoked"), (other.id, "active")]
    with pytest.raises(AuthenticationError):
        creds.get_token(force_refresh=True)
