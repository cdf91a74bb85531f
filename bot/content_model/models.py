"""What each content file may hold, as pydantic models.

Every model forbids keys it does not know (a misspelt key is an error, not a silent default)
and is frozen. The validated models are the loaded content: :func:`bot.texts.load_content`
hands them to the bot as they are. The values inside (texts, codes, patterns and their limits)
are typed in :mod:`bot.content_model.values`; checks that need more than one value -- the same
keys in every language, one article per topic, the last message naming 116111 -- are in
:mod:`bot.content_model.checks`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StrictBool,
    Tag,
    model_validator,
)

from bot.content_model.values import (
    CONTACT_TARGET_FIELD,
    Answer,
    CategoryCode,
    Code,
    Email,
    FoldedPattern,
    Messages,
    Phone,
    SafePattern,
    Template,
    Text,
    Url,
    category_key,
    code,
    problem,
    string_key,
)
from bot.domain import DEFAULT_LANGUAGE, LANGUAGES, Audience


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ByLanguage(Model):
    """A model keyed by language, read like a mapping: ``title.get(lang)``, ``answer["az"]``."""

    def get(self, lang: str, default: Any = None) -> Any:
        return getattr(self, lang) if lang in LANGUAGES and lang in type(self).model_fields else default

    def __getitem__(self, lang: str) -> Any:
        if lang not in LANGUAGES or lang not in type(self).model_fields:
            raise KeyError(lang)
        return getattr(self, lang)

    def items(self) -> list[tuple[str, Any]]:
        return [(lang, getattr(self, lang)) for lang in LANGUAGES if lang in type(self).model_fields]


class Texts(ByLanguage):
    az: Text
    ru: Text
    en: Text


# ---------------------------------------------------------------------------------------
# strings/<lang>.yaml and strings/<part>.<lang>.yaml
# ---------------------------------------------------------------------------------------


class Audiences(Model):
    """A text in two versions: for children and teenagers, and for adults."""

    teen: Template = Field(description="a text with audiences needs both teen and adult")
    adult: Template = Field(description="a text with audiences needs both teen and adult")


StringValue = Annotated[
    Annotated[Template, Tag("(text)")] | Annotated[Audiences, Tag("(audiences)")],
    Discriminator(lambda v: "(audiences)" if isinstance(v, dict | Audiences) else "(text)"),
]


class StringsFile(RootModel[dict[Annotated[str, AfterValidator(string_key)], StringValue]]):
    model_config = ConfigDict(frozen=True)


# ---------------------------------------------------------------------------------------
# selfhelp/<id>.yaml
# ---------------------------------------------------------------------------------------


class ArticleTexts(ByLanguage):
    az: Messages
    ru: Messages
    en: Messages


class Article(Model):
    """A self-help article: short chat messages per version (teen, parent) and language."""

    id: Text
    topics: tuple[Text, ...] = Field(min_length=1, description="topic codes from taxonomy.yaml")
    title: Texts = Field(description="az, ru, en")
    sources: tuple[Text, ...] = Field(min_length=1, description="where the advice comes from")
    versions: dict[Literal["teen", "parent"], ArticleTexts] = Field(min_length=1, description="teen, parent")

    def version_for(self, audience: Audience | str) -> str:
        wanted = "parent" if audience == Audience.ADULT else "teen"
        if wanted in self.versions:
            return wanted
        return next(iter(self.versions))

    def steps(self, version: str, lang: str) -> list[str]:
        by_lang = self.versions.get(version) or next(iter(self.versions.values()))  # type: ignore[call-overload]
        return by_lang.get(lang) or by_lang[DEFAULT_LANGUAGE]


# ---------------------------------------------------------------------------------------
# contacts.yaml
# ---------------------------------------------------------------------------------------


class Contact(Model):
    id: Code
    kind: Literal["phone", "email", "web", "app"] = Field(description="phone, email, web or app")
    number: Phone | None = None
    address: Email | None = None
    url: Url | None = None
    name: Texts = Field(description="az, ru, en")
    hours: Texts = Field(description="az, ru, en")
    when: Texts = Field(description="az, ru, en")
    free: StrictBool = Field(description="true or false")
    emergency: StrictBool = Field(description="true or false")
    verify: StrictBool = False
    topics: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _one_target(self) -> Contact:
        field = CONTACT_TARGET_FIELD[self.kind]
        given = [name for name in ("number", "address", "url") if getattr(self, name) is not None]
        others = [f"'{name}'" for name in given if name != field]
        if getattr(self, field) is None:
            raise problem(f"a {self.kind} contact needs '{field}'" + (f", not {others[0]}" if others else ""))
        if others:
            raise problem(f"a {self.kind} contact uses '{field}', not {others[0]}")
        return self

    @property
    def target(self) -> str:
        """The number, address or url, whichever the kind uses."""
        return getattr(self, CONTACT_TARGET_FIELD[self.kind])


class ContactsFile(Model):
    contacts: tuple[Contact, ...]


# ---------------------------------------------------------------------------------------
# taxonomy.yaml
# ---------------------------------------------------------------------------------------


class CategoryInfo(ByLanguage):
    az: Text
    ru: Text
    en: Text
    covers: Text | None = None


class TopicInfo(ByLanguage):
    # A label with a comma must be quoted in a flow mapping ({az: "a, b"}); unquoted, "b" would be
    # a stray key, which is an error here.
    category: CategoryCode
    az: Text
    ru: Text
    en: Text


class Taxonomy(Model):
    categories: dict[Annotated[str, AfterValidator(category_key)], CategoryInfo]
    topics: dict[Annotated[str, AfterValidator(code)], TopicInfo]
    specificity: tuple[Text, ...] = ()  # topics, the most specific first


# ---------------------------------------------------------------------------------------
# intents.yaml, helpline.yaml, profile.yaml
# ---------------------------------------------------------------------------------------


class IntentsFile(Model):
    intents: dict[str, tuple[FoldedPattern, ...]]


class HelplineAnswer(ByLanguage):
    az: Answer
    ru: Answer
    en: Answer


class HelplineTopic(Model):
    """A question about the helpline itself and its factual answer (helpline.yaml)."""

    id: Text
    patterns: tuple[FoldedPattern, ...]
    answer: HelplineAnswer = Field(description="az, ru, en")


class HelplineFile(Model):
    source: Texts = Field(description="az, ru, en")
    topics: tuple[HelplineTopic, ...] = ()


class GenderHints(Model):
    female: tuple[FoldedPattern, ...] = ()
    male: tuple[FoldedPattern, ...] = ()


class ProfileHints(Model):
    """What a message says about who is writing (profile.yaml)."""

    child: tuple[FoldedPattern, ...] = ()
    adult: tuple[FoldedPattern, ...] = ()
    gender: GenderHints = GenderHints()

    @property
    def female(self) -> tuple[re.Pattern[str], ...]:
        return self.gender.female

    @property
    def male(self) -> tuple[re.Pattern[str], ...]:
        return self.gender.male


# ---------------------------------------------------------------------------------------
# safe_messaging.yaml
# ---------------------------------------------------------------------------------------


class SomePatterns(ByLanguage):
    az: tuple[SafePattern, ...] = ()
    ru: tuple[SafePattern, ...] = ()
    en: tuple[SafePattern, ...] = ()


class AllPatterns(ByLanguage):
    az: tuple[SafePattern, ...]
    ru: tuple[SafePattern, ...]
    en: tuple[SafePattern, ...]


class ForbiddenRule(Model):
    id: Text
    what: Text = Field(description="say what the rule is for")
    scope: Literal["all", "crisis"] = "all"
    patterns: SomePatterns = Field(description="regular expressions per language")


class RequiredRule(Model):
    id: Text
    what: Text = Field(description="say what the rule is for")
    applies_to: tuple[Literal["strings", "articles"], ...] = Field(description="strings and/or articles")
    patterns: AllPatterns = Field(description="regular expressions for az, ru and en")


class Crisis(Model):
    string_keys: tuple[Text, ...] = Field(description="patterns of the keys of crisis texts")
    articles: tuple[Text, ...] = Field(description="the crisis articles")


class SafeMessaging(Model):
    forbidden: tuple[ForbiddenRule, ...]
    required: tuple[RequiredRule, ...]
    crisis: Crisis = Field(description="string_keys and articles")
