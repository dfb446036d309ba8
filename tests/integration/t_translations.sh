#!/bin/bash
# Checks that po/pt_PT.po translates every user-facing message of the tree:
# the messages are extracted afresh with xgettext, merged into a copy of the
# catalog, and any untranslated or fuzzy entry fails the check.
set -u
cd "$(dirname "$0")/../.."

dir=$(mktemp -d /tmp/edgecr-it-po-XXXXXX)
trap 'rm -rf "$dir"' EXIT

# The agent's API translates the format of api_send_error (its 4th argument).
xgettext --keyword=_ --keyword=N_ --keyword=api_send_error:4 --flag=api_send_error:4:c-format \
	--from-code=UTF-8 -o "$dir/edgecr.pot" \
	$(git ls-files '*/*.c' 2>/dev/null || ls */*.c)
msgmerge -q -o "$dir/pt_PT.po" po/pt_PT.po "$dir/edgecr.pot"

untranslated=$(msgattrib --untranslated --no-obsolete "$dir/pt_PT.po" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$dir/pt_PT.po" | grep -c '^msgid ' || true)
failed=0

# msgattrib prints the header entry (msgid "") whenever it prints anything.
if [ "$untranslated" -le 1 ]; then
	echo "ok - every message has a pt_PT translation"
else
	echo "not ok - every message has a pt_PT translation: $((untranslated - 1)) untranslated:"
	msgattrib --untranslated --no-obsolete "$dir/pt_PT.po" | grep -A1 '^msgid ' | sed 's/^/#   /'
	failed=1
fi
if [ "$fuzzy" -le 1 ]; then
	echo "ok - no pt_PT translation is fuzzy"
else
	echo "not ok - no pt_PT translation is fuzzy: $((fuzzy - 1)) fuzzy entries"
	failed=1
fi
if msgfmt --check -o /dev/null po/pt_PT.po; then
	echo "ok - pt_PT catalog compiles with msgfmt --check"
else
	echo "not ok - pt_PT catalog compiles with msgfmt --check"
	failed=1
fi
exit "$failed"
