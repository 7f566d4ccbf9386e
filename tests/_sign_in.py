"""A complete ``[auth]`` section for tests of the sign-in mode (st.login is never called)."""

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret-for-tests",
    "client_id": "outcomes-dashboard",
    "client_secret": "test-client-secret",
    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}
