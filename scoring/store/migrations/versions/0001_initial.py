"""The first schema: departments, criteria sets, files, assessments, node points, appraisals, explanations, scenarios.

Revision ID: 0001
Revises: 
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('criteria_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('points_status', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_id')
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('files',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('round', sa.String(length=20), nullable=False),
    sa.Column('criteria_set_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.Column('evidence_sha', sa.String(length=64), nullable=False),
    sa.Column('evidence_name', sa.String(length=255), nullable=False),
    sa.Column('dossiers_sha', sa.String(length=64), nullable=True),
    sa.Column('mapping_sha', sa.String(length=64), nullable=True),
    sa.Column('procedures_sha', sa.String(length=64), nullable=True),
    sa.Column('peers_sha', sa.String(length=64), nullable=True),
    sa.Column('points', sa.String(length=40), nullable=False),
    sa.Column('max_points', sa.String(length=40), nullable=False),
    sa.Column('percent', sa.String(length=40), nullable=True),
    sa.Column('band', sa.String(length=100), nullable=True),
    sa.Column('scorecard_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['criteria_set_id'], ['criteria_sets.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ),
    sa.ForeignKeyConstraint(['dossiers_sha'], ['files.sha256'], ),
    sa.ForeignKeyConstraint(['evidence_sha'], ['files.sha256'], ),
    sa.ForeignKeyConstraint(['mapping_sha'], ['files.sha256'], ),
    sa.ForeignKeyConstraint(['peers_sha'], ['files.sha256'], ),
    sa.ForeignKeyConstraint(['procedures_sha'], ['files.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_department_year', ['department_id', 'year'], unique=False)

    op.create_table('appraisals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.String(length=20), nullable=False),
    sa.Column('file_sha', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.Column('final_points', sa.String(length=40), nullable=False),
    sa.Column('comparison_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ),
    sa.ForeignKeyConstraint(['file_sha'], ['files.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appraisals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisals_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('node_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('points', sa.String(length=40), nullable=False),
    sa.Column('max_points', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'code')
    )
    with op.batch_alter_table('node_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_node_points_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sets', sa.Text(), nullable=False),
    sa.Column('points', sa.String(length=40), nullable=False),
    sa.Column('percent', sa.String(length=40), nullable=True),
    sa.Column('band', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenarios_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('appraisal_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('council_round', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('points', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appraisal_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_points_appraisal_id'), ['appraisal_id'], unique=False)

    op.create_table('explanations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appraisal_id', 'code')
    )


def downgrade() -> None:
    op.drop_table('explanations')
    with op.batch_alter_table('appraisal_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_points_appraisal_id'))

    op.drop_table('appraisal_points')
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenarios_assessment_id'))

    op.drop_table('scenarios')
    with op.batch_alter_table('node_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_node_points_assessment_id'))

    op.drop_table('node_points')
    with op.batch_alter_table('appraisals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisals_assessment_id'))

    op.drop_table('appraisals')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_department_year')

    op.drop_table('assessments')
    op.drop_table('files')
    op.drop_table('departments')
    op.drop_table('criteria_sets')
