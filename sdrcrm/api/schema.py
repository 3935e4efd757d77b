"""How the OpenAPI schema describes our authentication (a drf-spectacular extension)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class CachedTokenScheme(OpenApiAuthenticationExtension):
    """sdrcrm.authentication.CachedTokenAuthentication: `Authorization: Token <token>`, the
    same scheme (and name) as before the tokens were knox's."""

    target_class = "sdrcrm.authentication.CachedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201 - drf-spectacular's signature
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
