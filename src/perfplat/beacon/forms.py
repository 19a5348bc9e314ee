"""The beacon's form on the management page. It only splits what people typed into lines; the
steps and origins are checked by services.configure, whose errors are shown beside their field."""

from django import forms


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class BeaconForm(forms.Form):
    steps = forms.CharField(
        label="Steps of the journey",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=(
            "One step per line, in the order people go through them. The first is start and "
            "the last is done; name the steps between as you like, with lower-case letters, "
            "digits, - and _ (like check-answers)"
        ),
        error_messages={"required": "Enter the steps of the journey, from start to done"},
    )
    origins = forms.CharField(
        label="Where your pages are served from",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=(
            "One origin per line: the scheme and host only, like https://www.example.gov.uk. "
            "Events from pages anywhere else are not counted"
        ),
        error_messages={"required": "Enter where your pages are served from"},
    )

    @classmethod
    def initial_for(cls, beacon) -> dict:
        if beacon is None:
            return {"steps": "start\ndone"}
        return {"steps": "\n".join(beacon.steps), "origins": "\n".join(beacon.origins)}

    def settings(self) -> dict:
        return {
            "steps": lines(self.cleaned_data["steps"]),
            "origins": lines(self.cleaned_data["origins"]),
        }
