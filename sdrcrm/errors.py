class Refused(Exception):
    """A business rule said no. The API answers 400 with the message (and the field,
    when one field is to blame); pages show the message."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    @property
    def errors(self) -> dict[str, list[str]]:
        """The API's `errors` of this refusal: the field to blame, if any."""
        return {self.field: [self.message]} if self.field else {}
