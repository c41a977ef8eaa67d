"""A counter that moves whenever any incident row changes, read by the live map.

Live dashboards poll with conditional requests: the ETag carries this counter, so an
unchanged city answers 304 after one cheap read instead of re-running the map queries.
The trigger is a deferred constraint trigger, so the counter moves when the writing
transaction commits (not when it starts writing, which would let a poller see the new
counter with the old rows). It fires for every write path: services, bulk updates of the
warning scan, the synthetic generator's COPY.
"""

from django.db import migrations

SQL = """
CREATE SEQUENCE incidents_change_seq;
CREATE FUNCTION incidents_change_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM nextval('incidents_change_seq');
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER incidents_change_bump
  AFTER INSERT OR UPDATE OR DELETE ON incidents_incident
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION incidents_change_bump();
"""

REVERSE = """
DROP TRIGGER IF EXISTS incidents_change_bump ON incidents_incident;
DROP FUNCTION IF EXISTS incidents_change_bump();
DROP SEQUENCE IF EXISTS incidents_change_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_warnings")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
