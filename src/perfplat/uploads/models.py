"""Spreadsheet uploads: each file uploaded to a data set, what was found in it, and what
became of it; and the header -> field mapping each data set remembers."""

from django.conf import settings
from django.db import models


class Upload(models.Model):
    """One file uploaded to a data set. The file itself is kept in the database, so any app
    server (or the background worker) can read it again to commit it."""

    RECEIVED = "received"
    PREVIEWED = "previewed"
    QUEUED = "queued"
    COMMITTING = "committing"
    COMMITTED = "committed"
    INVALID = "invalid"
    FAILED = "failed"
    STATUSES = [
        (RECEIVED, "Received"),
        (PREVIEWED, "Ready to commit"),
        (QUEUED, "Waiting"),
        (COMMITTING, "Committing"),
        (COMMITTED, "Committed"),
        (INVALID, "Has errors"),
        (FAILED, "Failed"),
    ]
    # Work in progress: pages showing such an upload refresh themselves.
    IN_PROGRESS = (RECEIVED, QUEUED, COMMITTING)

    APPEND = "append"
    REPLACE = "replace"
    MODES = [(APPEND, "Add to the data set's records"), (REPLACE, "Replace all its records")]

    data_set = models.ForeignKey(
        "datasets.DataSet", on_delete=models.CASCADE, related_name="uploads"
    )
    # Who uploaded it; none for the command line.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    file_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content = models.BinaryField(default=b"")
    file_format = models.CharField(max_length=10, blank=True, default="")
    # The sheet read ("" for a CSV file, or the first sheet when none was chosen), and all of
    # the workbook's sheets, so people can choose another.
    sheet = models.CharField(max_length=255, blank=True, default="")
    sheet_names = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=10, choices=MODES, default=APPEND)
    # Why it changes stored records, should it correct a published data set (SPEC 13).
    reason = models.TextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=STATUSES, default=RECEIVED)
    # Set when the records should be stored as soon as the file is found free of errors.
    commit_requested = models.BooleanField(default=False)
    # The column headers, in order, and the header -> field mapping used (field "" for a
    # column not uploaded).
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first row errors ({row, column, value, problem}); error_count says how many in all.
    errors = models.JSONField(default=list, blank=True)
    # The first rows as they will be stored: [{"row": n, "record": {...}}].
    preview = models.JSONField(default=list, blank=True)
    # The declarations proposed from the file for the fields the data set had not declared
    # (datasets.fields.FieldDeclaration.as_dict), kept with the data set when committed.
    proposed_fields = models.JSONField(default=list, blank=True)
    # 0..100: how far the work in progress (reading, checking or storing) has gone.
    progress = models.PositiveSmallIntegerField(default=0)
    # How many times its background work was started again because its worker stopped (see
    # services.abandoned).
    restarts = models.PositiveSmallIntegerField(default=0)
    # How many records the commit stored (rows with the same _id make one record).
    stored_count = models.PositiveIntegerField(null=True, blank=True)
    write_batch = models.OneToOneField(
        "datasets.WriteBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload",
    )
    # Why the file could not be read (not a spreadsheet, no header row, ...) or the commit
    # failed.
    failure_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"upload of {self.file_name} to data set {self.data_set_id}"

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def can_commit(self) -> bool:
        # A failed commit stored nothing and may be tried again: the file is checked anew.
        return (
            self.status in (self.PREVIEWED, self.FAILED)
            and self.error_count == 0
            and self.row_count > 0
        )

    @property
    def uploaded_by(self) -> str:
        return str(self.user) if self.user_id else "Command line"

    @property
    def outcome(self) -> str:
        """The upload's outcome in a few words, for its history."""
        if self.status == self.COMMITTED:
            count = self.stored_count if self.stored_count is not None else self.row_count
            verb = "replaced the records with" if self.mode == self.REPLACE else "added"
            return f"Committed: {verb} {count:,} record{'s' if count != 1 else ''}"
        if self.status == self.INVALID:
            if self.failure_message:
                return f"Not readable: {self.failure_message}"
            return f"{self.error_count:,} row error{'s' if self.error_count != 1 else ''}"
        if self.status == self.FAILED:
            return f"Failed: {self.failure_message}"
        if self.status == self.PREVIEWED:
            return "Checked, not committed"
        return self.get_status_display()


class HeaderMapping(models.Model):
    """The fields a data set's spreadsheet columns were last mapped to, by header (compared
    without case, spaces, '_' or '-'), so the next upload is mapped the same way."""

    data_set = models.OneToOneField(
        "datasets.DataSet", on_delete=models.CASCADE, related_name="header_mapping"
    )
    mapping = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"header mapping of data set {self.data_set_id}"
