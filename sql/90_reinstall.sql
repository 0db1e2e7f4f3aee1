--
-- 90_reinstall: CREATE EXTENSION and the schema "engine".  Runs after every
-- other file: it drops the extension, and with it the engine's state, and
-- creates it again.
--
-- What PostgreSQL 15 does with the control file's schema: when it does not
-- exist, CREATE EXTENSION creates it, owned by the role running CREATE
-- EXTENSION, and does not make it a member of the extension (DROP EXTENSION
-- leaves it behind); when it exists, the extension goes into it as it is.
-- So engine._install_check refuses an existing schema that anyone but a
-- superuser could use to change what the engine's names resolve to: owned
-- by a role that is not a superuser, CREATE granted to such a role or to
-- PUBLIC, or holding any object that is not the extension's own.  An empty
-- schema owned by a superuser (what a restored pg_dump creates before
-- CREATE EXTENSION) is accepted.  Default privileges of the installing role
-- never reach the engine's objects.
--
-- The helper views of 00_setup use engine functions: drop them first, and
-- create them again at the end.
DROP VIEW public.engine_ok, public.last_seq;

-- The schema outlives DROP EXTENSION: owned by the role that ran CREATE
-- EXTENSION in 00_setup, not a member of any extension.
DROP EXTENSION engine;
SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned_by_installer
  FROM pg_namespace WHERE nspname = 'engine';
SELECT count(*) AS extension_members
  FROM pg_depend WHERE classid = 'pg_namespace'::regclass AND objid = 'engine'::regnamespace AND deptype = 'e';

-- Refused: an owner that is not a superuser.
CREATE ROLE regress_squatter;
ALTER SCHEMA engine OWNER TO regress_squatter;
CREATE EXTENSION engine;
ALTER SCHEMA engine OWNER TO CURRENT_USER;

-- Refused: CREATE for PUBLIC, or for a role that is not a superuser.
GRANT CREATE ON SCHEMA engine TO PUBLIC;
CREATE EXTENSION engine;
REVOKE CREATE ON SCHEMA engine FROM PUBLIC;
GRANT CREATE ON SCHEMA engine TO regress_squatter;
CREATE EXTENSION engine;
REVOKE CREATE ON SCHEMA engine FROM regress_squatter;

-- Refused: objects that are not the extension's: a function, a table,
-- default privileges for the schema.
CREATE FUNCTION engine.planted() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE EXTENSION engine;
DROP FUNCTION engine.planted();
-- The refusal quotes at most 160 bytes of the object's description
-- ("function <name>(<argument types>)"): 160 whole, 161 cut.
CREATE FUNCTION pg_temp.plant(name_len int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('CREATE FUNCTION engine.%I(%s) RETURNS int LANGUAGE sql AS $f$SELECT 1$f$',
	               'p' || repeat('x', name_len - 1), rtrim(repeat('integer,', 12), ','));
END
$$;
SELECT pg_temp.plant(54);
CREATE EXTENSION engine;
DROP FUNCTION engine.pxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
SELECT pg_temp.plant(55);
CREATE EXTENSION engine;
DROP FUNCTION engine.pxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
CREATE TABLE engine.command_log (seq bigint);
CREATE EXTENSION engine;
DROP TABLE engine.command_log;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_squatter IN SCHEMA engine GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
CREATE EXTENSION engine;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_squatter IN SCHEMA engine REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- Nothing of the refused attempts is left.
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'engine';
SELECT count(*) AS objects FROM pg_depend
 WHERE refclassid = 'pg_namespace'::regclass AND refobjid = 'engine'::regnamespace;

-- Accepted: an empty schema owned by a superuser, USAGE granted (the shape
-- a restored dump has); it keeps its owner and is still not a member.
GRANT USAGE ON SCHEMA engine TO regress_squatter;
CREATE EXTENSION engine;
SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned_by_installer
  FROM pg_namespace WHERE nspname = 'engine';
SELECT count(*) AS extension_members
  FROM pg_depend WHERE classid = 'pg_namespace'::regclass AND objid = 'engine'::regnamespace AND deptype = 'e';
DROP EXTENSION engine;
REVOKE USAGE ON SCHEMA engine FROM regress_squatter;

-- No schema: CREATE EXTENSION creates it, owned by the installing role.
-- Default privileges of that role (here: everything for regress_squatter)
-- do not reach any object of the extension, and PUBLIC gets nothing.
DROP SCHEMA engine;
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO regress_squatter;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO regress_squatter;
CREATE EXTENSION engine;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM regress_squatter;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM regress_squatter;
SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned_by_installer
  FROM pg_namespace WHERE nspname = 'engine';
SELECT count(*) AS extension_members
  FROM pg_depend WHERE classid = 'pg_namespace'::regclass AND objid = 'engine'::regnamespace AND deptype = 'e';
WITH members AS (
	SELECT p.proacl AS acl FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'engine'
	UNION ALL
	SELECT c.relacl FROM pg_class c
	  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'engine')
SELECT count(*) AS objects,
       count(*) FILTER (WHERE acl IS NULL) AS default_acl,
       count(*) FILTER (WHERE EXISTS (SELECT FROM aclexplode(acl) a
                                      WHERE a.grantee IN (0, 'regress_squatter'::regrole))) AS leaked
  FROM members;
DROP ROLE regress_squatter;

-- The worker serves the new extension from an empty engine; the library
-- serves the version CREATE EXTENSION installed (engine.control's
-- default_version).
DO $$
BEGIN
	FOR i IN 1..300 LOOP
		EXIT WHEN engine.ready();
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT state, last_seq, resting_orders, accounts,
       library_version, library_version = (SELECT extversion FROM pg_extension WHERE extname = 'engine') AS matches
  FROM engine.status();

CREATE VIEW public.engine_ok AS
SELECT count(*) > 0 AS has_checks,
       coalesce(bool_and(ok), false) AS all_ok,
       string_agg(check_name || coalesce(': ' || detail, ''), '; ')
           FILTER (WHERE NOT ok) AS failed
  FROM engine.verify();
CREATE VIEW public.last_seq AS
SELECT coalesce(max(seq), 0) AS seq FROM engine.command_log;
SELECT * FROM engine_ok;
