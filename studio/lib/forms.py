from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Every field renders through templates/forms/field.html (label, input, help, error)."""

    field_template_name = "forms/field.html"
