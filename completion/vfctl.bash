# shellcheck shell=bash
# bash completion for vfctl(1)                          -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Commands and each command's own options come from vfctl itself ('vfctl
# help', 'vfctl help CMD'), so they never drift from the binary; devices
# from sysfs (the --sysfs-root on the line, else $VFCTL_SYSFS_ROOT, else
# /sys), drivers from bus/pci/drivers, pools and lease ids from vfctld
# ('vfctl --json pools', 'vfctl --json leases': yours only).

# The value of option $1 on the command line so far, else $2.
_vfctl_opt_value()
{
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		"$1") echo "${COMP_WORDS[i + 1]}"; return ;;
		"$1"=*) echo "${COMP_WORDS[i]#*=}"; return ;;
		esac
	done
	echo "$2"
}

_vfctl_sys()
{
	_vfctl_opt_value --sysfs-root "${VFCTL_SYSFS_ROOT:-/sys}"
}

# PCI addresses, netdev names and PF:INDEX (by address and by netdev)
_vfctl_devices()
{
	local sys f n i name
	sys=$(_vfctl_sys)
	ls "$sys/bus/pci/devices" 2>/dev/null
	ls "$sys/class/net" 2>/dev/null
	for f in "$sys"/bus/pci/devices/*/sriov_numvfs; do
		n=$(cat "$f" 2>/dev/null)
		[[ $n =~ ^[0-9]+$ ]] || continue
		for name in "$(basename "${f%/sriov_numvfs}")" $(ls "${f%/sriov_numvfs}/net" 2>/dev/null); do
			for ((i = 0; i < n; i++)); do
				echo "$name:$i"
			done
		done
	done
}

_vfctl_pfs()
{
	local sys d
	sys=$(_vfctl_sys)
	for d in "$sys"/bus/pci/devices/*/sriov_totalvfs; do
		[ -e "$d" ] && basename "${d%/sriov_totalvfs}"
	done
}

_vfctl_drivers()
{
	ls "$(_vfctl_sys)/bus/pci/drivers" 2>/dev/null
}

# "name" or "id" values of vfctld's JSON reply to $1 (pools, leases)
_vfctl_daemon_names()
{
	local key=$2
	"${COMP_WORDS[0]}" --json "$1" 2>/dev/null |
		grep -oE "\"$key\" *: *\"[^\"]+\"" | sed -E 's/.*: *"([^"]+)"/\1/' | sort -u
}

_vfctl()
{
	local cur prev cmd i words=() opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	local vfctl=${COMP_WORDS[0]}

	# the command word: the first that is no option nor an option's value
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--sysfs-root|--dev-root|--run-dir) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	case $prev in
	--sysfs-root|--dev-root|--run-dir)
		compopt -o dirnames 2>/dev/null
		COMPREPLY=()
		return ;;
	--config|--socket)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--pf)
		mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_pfs)" -- "$cur")
		return ;;
	--pool)
		mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_daemon_names pools name)" -- "$cur")
		return ;;
	--driver)
		mapfile -t COMPREPLY < <(compgen -W "vfio host none $(_vfctl_drivers)" -- "$cur")
		return ;;
	--lease)
		mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_daemon_names leases id)" -- "$cur")
		return ;;
	--ttl)	# a few durations as examples of the form
		mapfile -t COMPREPLY < <(compgen -W "10m 1h 8h 1d" -- "$cur")
		return ;;
	--timeout|--numa|--owner|--pid)
		COMPREPLY=()
		return ;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			opts=$("$vfctl" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
			mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		else
			opts=$("$vfctl" help 2>/dev/null |
				sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
			mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		fi
		return
	fi

	# exec: after its --lease, the rest is the program's own command line
	if [ "$cmd" = exec ]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			if [ "${COMP_WORDS[i]}" = -- ]; then
				mapfile -t COMPREPLY < <(compgen -c -- "$cur")
				return
			fi
		done
	fi
	if [[ $cur == -* ]]; then
		opts=$("$vfctl" help "$cmd" 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi

	# the positional arguments so far
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--sysfs-root|--dev-root|--run-dir|--config|--socket|--pf|--pool|--lease|--timeout|--numa|--owner|--pid|--driver|--ttl)
			((i++)) ;;
		-*) ;;
		*) words+=("${COMP_WORDS[i]}") ;;
		esac
	done
	local n=$((${#words[@]} - 1))	# arguments after the command word
	case $cmd in
	list)
		mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_devices)" -- "$cur") ;;
	show|unbind|restore)
		[ "$n" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_devices)" -- "$cur") ;;
	bind)
		if [ "$n" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_devices)" -- "$cur")
		elif [ "$n" -eq 1 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_drivers)" -- "$cur")
		fi ;;
	create|destroy)
		[ "$n" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_pfs)" -- "$cur") ;;
	set)
		if [ "$n" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_vfctl_devices)" -- "$cur")
		elif [ $((n % 2)) -eq 1 ]; then
			mapfile -t COMPREPLY < <(compgen -W "mac vlan qos proto spoofchk trust link-state \
				query-rss max-tx-rate min-tx-rate" -- "$cur")
		fi ;;
	release|xml|qemu-args)
		[ "$n" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W \
			"$(_vfctl_daemon_names leases id) $(_vfctl_devices)" -- "$cur") ;;
	help)
		[ "$n" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "$("$vfctl" help 2>/dev/null |
			sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')" -- "$cur") ;;
	esac
}
complete -F _vfctl vfctl
