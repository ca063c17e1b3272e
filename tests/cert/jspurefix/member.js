#!/usr/bin/env node
// jspurefix, a FIX engine we did not write, playing a member's initiator:
//
//   node member.js HOST PORT SENDER TARGET HEARTBTINT
//
// The session is member-session.json (beside this file) with the connection, CompIDs and
// HeartBtInt taken from the arguments. Everything else is jspurefix's own behaviour: its
// AsciiSession answers heartbeats, TestRequests, ResendRequests and SequenceResets as the
// engine does, nothing here overrides the session layer. Environment:
//   JSPUREFIX_STORE_DIR   where the file store keeps sequence numbers (default: a new
//                         directory under the system's temp dir); a relaunch after the
//                         session ended carries on from there
//   JSPUREFIX_RESET=Y     ResetSeqNumFlag=Y on every logon (default N)
// Signals: SIGUSR1 makes the member log out on its own (FIX test case 12), SIGINT/SIGTERM
// stop it. Every FIX message in and out is printed on stdout, '|' for SOH.
'use strict'

require('reflect-metadata') // tsyringe, jspurefix's DI container, needs it loaded first
const fs = require('fs')
const os = require('os')
const path = require('path')
const { SessionLauncher, AsciiSession, JsFixWinstonLogFactory, WinstonLogger } = require('jspurefix')

function usage (why) {
  process.stderr.write(`member.js: ${why}\nusage: node member.js HOST PORT SENDER TARGET HEARTBTINT\n`)
  process.exit(2)
}

const [host, portText, sender, target, heartBtIntText] = process.argv.slice(2)
if (process.argv.length !== 7) usage('expected 5 arguments')
const port = Number(portText)
const heartBtInt = Number(heartBtIntText)
if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`PORT must be 1-65535, got '${portText}'`)
if (!Number.isInteger(heartBtInt) || heartBtInt < 1) usage(`HEARTBTINT must be a positive whole number of seconds, got '${heartBtIntText}'`)

const description = JSON.parse(fs.readFileSync(path.join(__dirname, 'member-session.json'), 'utf8'))
description.application.tcp = { host, port }
description.SenderCompId = sender
description.TargetCompID = target
description.HeartBtInt = heartBtInt
description.ResetSeqNumFlag = process.env.JSPUREFIX_RESET === 'Y'
description.store.directory = process.env.JSPUREFIX_STORE_DIR
  ? path.resolve(process.env.JSPUREFIX_STORE_DIR)
  : fs.mkdtempSync(path.join(os.tmpdir(), 'linkwatch-jspurefix-'))
fs.mkdirSync(description.store.directory, { recursive: true })

function log (line) {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`)
}

let current = null // the live session, for SIGUSR1

class MemberSession extends AsciiSession {
  constructor (config) {
    super(config)
    current = this
  }

  onApplicationMsg (msgType, _view) { log(`application message ${msgType}`) }
  onReady (_view) { log('logged on') }
  onStopped (error) { log(`session stopped${error ? ': ' + error.message : ''}`) }
  onLogon (_view, _user, _password) { return true }
  onDecoded (_msgType, txt) { log(`<- ${txt}`) }
  onEncoded (_msgType, txt) { log(`-> ${txt}`) }
}

class MemberLauncher extends SessionLauncher {
  constructor () {
    // warnings and errors of the engine only: the FIX messages themselves are printed above
    super(description, null, new JsFixWinstonLogFactory(WinstonLogger.consoleOptions('warn')))
  }

  makeFactory (_config) {
    return { makeSession: (config) => new MemberSession(config) }
  }
}

let stopping = false
let launcher = null

// A resilient jspurefix initiator recovers a lost transport by itself; a session that ended
// for good (a Logout exchange, a refused logon) ends run(). A member's engine is restarted
// by its operator then: here after reconnectSeconds, with the file store's sequence numbers.
async function runForever () {
  const pause = (description.application.reconnectSeconds ?? 5) * 1000
  while (!stopping) {
    launcher = new MemberLauncher()
    log(`connecting to ${host}:${port} as ${sender} -> ${target}, HeartBtInt ${heartBtInt}`)
    try {
      await launcher.run()
      log('session ended')
    } catch (e) {
      log(`session failed: ${e.message}`)
    }
    current = null
    if (!stopping) await new Promise(resolve => setTimeout(resolve, pause))
  }
}

function stop (signal) {
  log(`stopping (${signal})`)
  stopping = true
  if (launcher) launcher.stop()
  setTimeout(() => process.exit(0), 200).unref()
}

process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGUSR1', () => {
  if (current) {
    log('logout requested (SIGUSR1)')
    current.done()
  } else {
    log('logout requested (SIGUSR1), but no session is up')
  }
})

runForever().then(() => process.exit(0))
