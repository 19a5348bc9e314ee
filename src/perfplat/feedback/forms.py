"""The feedback form: it only parses what people send; the rules live in services.py."""

from django import forms

from .models import Feedback


class FeedbackForm(forms.Form):
    useful = forms.ChoiceField(
        label="Is this dashboard useful?",
        choices=Feedback.USEFUL,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose yes or no"},
    )
    message = forms.CharField(
        label="Tell us more",
        required=False,
        max_length=Feedback.MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "Do not include personal information, like your name, email address or any "
            "reference number. We cannot reply to you."
        ),
        error_messages={
            "max_length": f"Your feedback must be {Feedback.MAX_MESSAGE_LENGTH} characters or fewer"
        },
    )
    page = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)

    def __init__(self, *args, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        if service is None:
            del self.fields["useful"]
            self.fields["message"].label = "What do you think of the Performance Platform?"
