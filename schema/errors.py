import strawberry


@strawberry.type(description="A problem with the input that the caller can fix.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "email"].'
    )
    message: str
    code: str = strawberry.field(description="Stable, machine-readable code, e.g. EMAIL_TAKEN.")
