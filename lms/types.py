"""Types the apps share in their services' and selectors' signatures."""

from django.contrib.auth.models import AnonymousUser

from .models import User

# Whom a request is from: a signed-in person or an anonymous visitor
# (`request.user`). Services that act for a person take `User`.
AnyUser = User | AnonymousUser
