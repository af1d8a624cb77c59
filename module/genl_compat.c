// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/extpager.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "genl.h"

#include <uapi/linux/extpager.h>
#include <extpager.h>
#include <linux/err.h>

/* EXTPAGER_CMD_OBJECT_CREATE - do */
static const struct nla_policy extpager_object_create_nl_policy[EXTPAGER_A_OBJECT_READ_ONLY + 1] = {
	[EXTPAGER_A_OBJECT_SIZE] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_ORPHAN_MS] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_READ_ONLY] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* EXTPAGER_CMD_OBJECT_DESTROY - do */
static const struct nla_policy extpager_object_destroy_nl_policy[EXTPAGER_A_OBJECT_ID + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* EXTPAGER_CMD_OBJECT_GET - do */
static const struct nla_policy extpager_object_get_nl_policy[EXTPAGER_A_OBJECT_ID + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* EXTPAGER_CMD_READY - do */
static const struct nla_policy extpager_ready_nl_policy[EXTPAGER_A_OBJECT_NOTIFY_EVICT + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_MAY_CACHE] = NLA_POLICY_MAX(NLA_U8, 1),
	[EXTPAGER_A_OBJECT_CLUSTER] = NLA_POLICY_RANGE(NLA_U32, 1, EXTPAGER_MAX_RUN),
	[EXTPAGER_A_OBJECT_RESIDENT_LIMIT] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_NOTIFY_EVICT] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* EXTPAGER_CMD_DATA_SUPPLY - do */
static const struct nla_policy extpager_data_supply_nl_policy[EXTPAGER_A_OBJECT_FLAGS + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_REQUEST_ID] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_OFFSET] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_LENGTH] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_DATA] = { .type = NLA_BINARY, },
	[EXTPAGER_A_OBJECT_DATA_ADDR] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x3),
};

/* EXTPAGER_CMD_DATA_UNAVAILABLE - do */
static const struct nla_policy extpager_data_unavailable_nl_policy[EXTPAGER_A_OBJECT_LENGTH + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_REQUEST_ID] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_OFFSET] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_LENGTH] = { .type = NLA_UINT, },
};

/* EXTPAGER_CMD_DATA_ERROR - do */
static const struct nla_policy extpager_data_error_nl_policy[EXTPAGER_A_OBJECT_ERROR + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_REQUEST_ID] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_OFFSET] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_LENGTH] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_ERROR] = NLA_POLICY_RANGE(NLA_U32, 1, MAX_ERRNO),
};

/* EXTPAGER_CMD_UNLOCK_REPLY - do */
static const struct nla_policy extpager_unlock_reply_nl_policy[EXTPAGER_A_OBJECT_GRANT + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_REQUEST_ID] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_GRANT] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* EXTPAGER_CMD_RETURN_ACK - do */
static const struct nla_policy extpager_return_ack_nl_policy[EXTPAGER_A_OBJECT_ERROR + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_REQUEST_ID] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_ERROR] = NLA_POLICY_RANGE(NLA_U32, 1, MAX_ERRNO),
};

/* EXTPAGER_CMD_LOCK_REQUEST - do */
static const struct nla_policy extpager_lock_request_nl_policy[EXTPAGER_A_OBJECT_LOCK_FLAGS + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[EXTPAGER_A_OBJECT_REQUEST_ID] = { .type = NLA_U32, },
	[EXTPAGER_A_OBJECT_OFFSET] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_LENGTH] = { .type = NLA_UINT, },
	[EXTPAGER_A_OBJECT_SHOULD_RETURN] = NLA_POLICY_MAX(NLA_U32, 2),
	[EXTPAGER_A_OBJECT_LOCK_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x3),
};

/* EXTPAGER_CMD_OBJECT_ADOPT - do */
static const struct nla_policy extpager_object_adopt_nl_policy[EXTPAGER_A_OBJECT_ID + 1] = {
	[EXTPAGER_A_OBJECT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* EXTPAGER_CMD_OBJECT_CREATE_ANON - do */
static const struct nla_policy extpager_object_create_anon_nl_policy[EXTPAGER_A_OBJECT_SIZE + 1] = {
	[EXTPAGER_A_OBJECT_SIZE] = { .type = NLA_UINT, },
};

/* EXTPAGER_CMD_CHANNEL_OPEN - do */
static const struct nla_policy extpager_channel_open_nl_policy[EXTPAGER_A_OBJECT_TAGS + 1] = {
	[EXTPAGER_A_OBJECT_TAGS] = NLA_POLICY_RANGE(NLA_U32, 1, EXTPAGER_CHANNEL_MAX_DEPTH),
};

/* Ops table for extpager */
static const struct genl_ops extpager_nl_ops[] = {
	{
		.cmd		= EXTPAGER_CMD_OBJECT_CREATE,
		.doit		= extpager_nl_object_create_doit,
		.policy		= extpager_object_create_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_READ_ONLY,
	},
	{
		.cmd		= EXTPAGER_CMD_OBJECT_DESTROY,
		.doit		= extpager_nl_object_destroy_doit,
		.policy		= extpager_object_destroy_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_ID,
	},
	{
		.cmd		= EXTPAGER_CMD_OBJECT_GET,
		.doit		= extpager_nl_object_get_doit,
		.dumpit		= extpager_nl_object_get_dumpit,
		.policy		= extpager_object_get_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_ID,
	},
	{
		.cmd		= EXTPAGER_CMD_READY,
		.doit		= extpager_nl_ready_doit,
		.policy		= extpager_ready_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_NOTIFY_EVICT,
	},
	{
		.cmd		= EXTPAGER_CMD_DATA_SUPPLY,
		.doit		= extpager_nl_data_supply_doit,
		.policy		= extpager_data_supply_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_FLAGS,
	},
	{
		.cmd		= EXTPAGER_CMD_DATA_UNAVAILABLE,
		.doit		= extpager_nl_data_unavailable_doit,
		.policy		= extpager_data_unavailable_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_LENGTH,
	},
	{
		.cmd		= EXTPAGER_CMD_DATA_ERROR,
		.doit		= extpager_nl_data_error_doit,
		.policy		= extpager_data_error_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_ERROR,
	},
	{
		.cmd		= EXTPAGER_CMD_UNLOCK_REPLY,
		.doit		= extpager_nl_unlock_reply_doit,
		.policy		= extpager_unlock_reply_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_GRANT,
	},
	{
		.cmd		= EXTPAGER_CMD_RETURN_ACK,
		.doit		= extpager_nl_return_ack_doit,
		.policy		= extpager_return_ack_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_ERROR,
	},
	{
		.cmd		= EXTPAGER_CMD_LOCK_REQUEST,
		.doit		= extpager_nl_lock_request_doit,
		.policy		= extpager_lock_request_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_LOCK_FLAGS,
	},
	{
		.cmd		= EXTPAGER_CMD_OBJECT_ADOPT,
		.doit		= extpager_nl_object_adopt_doit,
		.policy		= extpager_object_adopt_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_ID,
	},
	{
		.cmd		= EXTPAGER_CMD_DEFAULT_PAGER_SET,
		.doit		= extpager_nl_default_pager_set_doit,
	},
	{
		.cmd		= EXTPAGER_CMD_OBJECT_CREATE_ANON,
		.doit		= extpager_nl_object_create_anon_doit,
		.policy		= extpager_object_create_anon_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_SIZE,
	},
	{
		.cmd		= EXTPAGER_CMD_CHANNEL_OPEN,
		.doit		= extpager_nl_channel_open_doit,
		.policy		= extpager_channel_open_nl_policy,
		.maxattr	= EXTPAGER_A_OBJECT_TAGS,
	},
};

static int extpager_nl_compat_pre_doit(const struct genl_ops *ops,
				       struct sk_buff *skb, struct genl_info *info)
{
	switch (ops->cmd) {
	case EXTPAGER_CMD_OBJECT_DESTROY:
	case EXTPAGER_CMD_READY:
	case EXTPAGER_CMD_DATA_SUPPLY:
	case EXTPAGER_CMD_DATA_UNAVAILABLE:
	case EXTPAGER_CMD_DATA_ERROR:
	case EXTPAGER_CMD_UNLOCK_REPLY:
	case EXTPAGER_CMD_RETURN_ACK:
	case EXTPAGER_CMD_LOCK_REQUEST:
		return extpager_nl_pre_doit(ops, skb, info);
	}
	return 0;
}

static void extpager_nl_compat_post_doit(const struct genl_ops *ops,
					 struct sk_buff *skb, struct genl_info *info)
{
	switch (ops->cmd) {
	case EXTPAGER_CMD_OBJECT_DESTROY:
	case EXTPAGER_CMD_READY:
	case EXTPAGER_CMD_DATA_SUPPLY:
	case EXTPAGER_CMD_DATA_UNAVAILABLE:
	case EXTPAGER_CMD_DATA_ERROR:
	case EXTPAGER_CMD_UNLOCK_REPLY:
	case EXTPAGER_CMD_RETURN_ACK:
	case EXTPAGER_CMD_LOCK_REQUEST:
		extpager_nl_post_doit(ops, skb, info);
		break;
	}
}

struct genl_family extpager_nl_family __ro_after_init = {
	.name		= EXTPAGER_FAMILY_NAME,
	.version	= EXTPAGER_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= extpager_nl_ops,
	.n_ops		= ARRAY_SIZE(extpager_nl_ops),
	.pre_doit	= extpager_nl_compat_pre_doit,
	.post_doit	= extpager_nl_compat_post_doit,
};
