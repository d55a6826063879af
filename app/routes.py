"""What the service serves. A new resource's controller goes in ``API``."""

from __future__ import annotations

from app.http.controllers.comments import CommentController
from app.http.controllers.health import HealthController
from app.http.controllers.posts import PostController
from app.http.controllers.service_context import ServiceContextController
from app.http.controllers.sharing import SharingController
from app.http.controllers.users import UserController
from app.http.controllers.webhooks import KeycloakWebhookController

# Behind the bearer token (the /v1 router's middleware, app/http/auth.py).
API = [
    UserController,
    # region: blog
    PostController,
    SharingController,
    CommentController,
    # endregion
    ServiceContextController,
    # `just new-resource` adds a new resource's controller above this line.
]
# Without one: health for probes; the Keycloak webhook is signed instead.
OPEN = [
    HealthController,
    # region: webhook
    KeycloakWebhookController,
    # endregion
]
