"""case lifecycle (outcome, closer, review), the inbox, outbox leases, article ratings, triage labels,
and the Telegram channel's own tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # ---- the inbox (was inbound_updates) ------------------------------------------------------
    op.create_table(
        "inbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("taken_until", TS, nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external"),
    )
    op.create_index("ix_inbox_pending", "inbox", ["channel", "status", "id"], unique=False)
    op.execute(
        "INSERT INTO inbox (channel, external_id, status, payload, attempts, received_at, done_at, error) "
        "SELECT channel, external_id, status, payload, attempts, received_at, done_at, error "
        "FROM inbound_updates ORDER BY id"
    )
    op.drop_table("inbound_updates")

    # ---- the Telegram channel's tables --------------------------------------------------------
    op.create_table(
        "telegram_cases",
        sa.Column("case_id", ID, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_telegram_cases_thread_id", "telegram_cases", ["thread_id"], unique=False)
    op.create_index("ix_telegram_cases_card_message_id", "telegram_cases", ["card_message_id"], unique=False)
    op.execute(
        "INSERT INTO telegram_cases (case_id, thread_id, card_message_id) "
        "SELECT id, staff_thread_id, staff_card_message_id FROM cases "
        "WHERE staff_thread_id IS NOT NULL OR staff_card_message_id IS NOT NULL"
    )
    op.create_table(
        "telegram_links",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("person_message_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_message_id", sa.BigInteger(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_telegram_links_case_id", "telegram_links", ["case_id"], unique=False)
    op.create_index("ix_telegram_links_staff", "telegram_links", ["staff_message_id"], unique=False)
    op.execute(
        "INSERT INTO telegram_links (case_id, person_message_id, staff_message_id, direction, created_at) "
        "SELECT case_id, person_message_id, staff_message_id, direction, created_at FROM relay_links "
        "ORDER BY id"
    )
    op.drop_table("relay_links")

    # ---- cases: outcome, closer, the person leaving, the counsellor's review ------------------
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_by_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("person_left_at", TS, nullable=True))
        batch_op.add_column(sa.Column("risk_raised_at", TS, nullable=True))
        batch_op.add_column(sa.Column("risk_seen_at", TS, nullable=True))
        batch_op.add_column(sa.Column("review_risk", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("review_category", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", TS, nullable=True))
    op.execute("UPDATE cases SET outcome = 'idle', closed_by = NULL WHERE closed_by = 'idle'")
    op.execute("UPDATE cases SET outcome = 'forgotten', closed_by = NULL WHERE closed_by = 'forget'")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("staff_thread_id")
        batch_op.drop_column("staff_card_message_id")

    # ---- outbox leases ----------------------------------------------------------------------------
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leased_until", TS, nullable=True))
    op.execute("UPDATE outbox SET leased_until = next_attempt_at WHERE status = 'pending' AND attempts > 0")

    # ---- article ratings and triage labels --------------------------------------------------------
    op.create_table(
        "article_ratings",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("rated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_article_ratings_conversation_id", "article_ratings", ["conversation_id"], unique=False
    )
    op.create_index("ix_article_ratings_rated_at", "article_ratings", ["rated_at"], unique=False)
    op.create_table(
        "triage_labels",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("person_id", ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("predicted_risk", sa.String(length=16), nullable=True),
        sa.Column("predicted_category", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_triage_labels_case_id", "triage_labels", ["case_id"], unique=False)
    op.create_index("ix_triage_labels_person_id", "triage_labels", ["person_id"], unique=False)
    op.create_index("ix_triage_labels_created_at", "triage_labels", ["created_at"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible: restore the database from a backup instead")
