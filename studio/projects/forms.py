from __future__ import annotations

from django import forms

from studio.projects.models import Project


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name"]
        labels = {"name": "Project name"}
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "Spring launch", "autocomplete": "off"})
        }


class ShotForm(forms.Form):
    name = forms.CharField(
        label="Shot name",
        max_length=120,
        widget=forms.TextInput(
            attrs={"placeholder": "Opening: barista at dawn", "autocomplete": "off"}
        ),
    )


class NewShotForm(ShotForm):
    project = forms.ModelChoiceField(
        label="Project", queryset=Project.objects.none(), required=False, empty_label="New project…"
    )
    project_name = forms.CharField(label="New project name", max_length=120, required=False)

    field_order = ["project", "project_name", "name"]

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        projects = Project.objects.for_workspace(workspace).active()
        self.fields["project"].queryset = projects
        self.fields["project"].initial = projects.first()

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("project") and not (data.get("project_name") or "").strip():
            self.add_error("project_name", "Name the new project, or pick an existing one.")
        return data
