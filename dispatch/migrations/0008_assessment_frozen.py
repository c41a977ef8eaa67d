"""A published month is frozen in the database too: its results and adjustments refuse
UPDATE, DELETE (and new adjustments), whatever code asks. The services already never write
to a published run; this is the backstop (like the audit log's append-only trigger)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION dispatch_assessment_frozen() RETURNS trigger AS $$
DECLARE
    run integer := CASE WHEN TG_OP = 'INSERT' THEN NEW.run_id ELSE OLD.run_id END;
BEGIN
    IF EXISTS (
        SELECT 1 FROM dispatch_assessmentrun
        WHERE id = run AND status IN ('published', 'superseded')
    ) THEN
        RAISE EXCEPTION 'assessment month % is published and frozen (% on % refused)',
            run, TG_OP, TG_TABLE_NAME;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER dispatch_assessmentresult_frozen
    BEFORE UPDATE OR DELETE ON dispatch_assessmentresult
    FOR EACH ROW EXECUTE FUNCTION dispatch_assessment_frozen();

CREATE TRIGGER dispatch_assessmentadjustment_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON dispatch_assessmentadjustment
    FOR EACH ROW EXECUTE FUNCTION dispatch_assessment_frozen();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS dispatch_assessmentadjustment_frozen ON dispatch_assessmentadjustment;
DROP TRIGGER IF EXISTS dispatch_assessmentresult_frozen ON dispatch_assessmentresult;
DROP FUNCTION IF EXISTS dispatch_assessment_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0007_assessment_labels")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
