"""/api/users and /api/me: the people of my organisations."""

from ninja import Router
from ninja.responses import Status

from . import services
from .models import User
from .permissions import requires
from .schemas import UserIn, UserOut, UserPatch

router = Router(tags=["users"])


@router.get("/me", response=UserOut)
@requires("signed_in")
def me(request):
    return request.user


@router.get("/users", response=list[UserOut])
@requires("users.manage")
def list_users(request):
    return services.users_visible_to(request.user)


@router.post("/users", response={201: UserOut})
@requires("users.manage")
def create_user(request, payload: UserIn):
    """Create a user; they set their password with the password reset email."""
    fields = payload.dict()
    user = services.create_user(
        request.user, fields["email"], fields["role"], fields["organisation"], fields["name"]
    )
    services.send_password_setup(user, request)
    return Status(201, user)


@router.get("/users/{user_id}", response=UserOut)
@requires("users.manage")
def get_user(request, user_id: int):
    return User.objects.select_related("organisation").get(pk=user_id)


@router.patch("/users/{user_id}", response=UserOut)
@requires("users.manage")
def update_user(request, user_id: int, payload: UserPatch):
    user = User.objects.select_related("organisation").get(pk=user_id)
    return services.update_user(request.user, user, **payload.dict(exclude_unset=True))
