// The chat relay as the 2021 stack wrote it, the chat benchmark's baseline: a Socket.IO server
// whose `send` handler stores the message in MySQL (mysql2, a pool of 10 connections, one
// autocommitted INSERT per message, the auto-increment id as its order), acknowledges the sender
// with the stored id, then emits it to the room. No accounts: a client names itself on `join`.
//
// Usage: node chat-baseline.mjs PORT mysql://user@host:port/database
// The bench program (bench/src/bin/chat) creates the database and counts the rows afterwards.

import { createServer } from "node:http"
import { fromInterop } from "./modules.mjs"

const { Server } = await fromInterop("socket.io/wrapper.mjs")
const mysql = (await fromInterop("mysql2/promise.js")).default

const [port, databaseUrl] = process.argv.slice(2)
const pool = mysql.createPool({ uri: databaseUrl, connectionLimit: 10 })
await pool.query(`CREATE TABLE IF NOT EXISTS messages (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  room VARCHAR(64) NOT NULL,
  client_id CHAR(36) NOT NULL,
  sender VARCHAR(64) NOT NULL,
  text VARCHAR(1000) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY room_id (room, id)
) CHARACTER SET utf8mb4`)

const http = createServer()
const io = new Server(http, { serveClient: false })

io.on("connection", socket => {
  socket.on("join", ({ room, nickname }, ack) => {
    socket.data.nickname = String(nickname ?? "")
    socket.join(String(room))
    if (typeof ack === "function") ack({ room })
  })
  socket.on("send", async ({ room, client_id, text }, ack) => {
    const reply = typeof ack === "function" ? ack : () => {}
    try {
      const at = new Date()
      const [result] = await pool.execute(
        "INSERT INTO messages (room, client_id, sender, text, created_at) VALUES (?, ?, ?, ?, ?)",
        [String(room), String(client_id), socket.data.nickname ?? "", String(text), at],
      )
      reply({ client_id, id: result.insertId })
      io.to(String(room)).emit("message", {
        room,
        id: result.insertId,
        client_id,
        sender: socket.data.nickname,
        text,
        at: at.toISOString(),
      })
    } catch (error) {
      console.error("chat-baseline: insert failed:", error.message)
      reply({ client_id, error: String(error.message) })
    }
  })
})

http.listen(Number(port), "127.0.0.1")
